"""The FastAPI application factory (``uvicorn --factory kgrec.api.app:create_app``)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import Depends, FastAPI

from kgrec.api.deps import require_read_key
from kgrec.api.errors import install_error_handlers
from kgrec.api.limits import BodySizeLimit
from kgrec.api.live_models import LiveModels
from kgrec.api.metrics import Metrics, RequestMetrics
from kgrec.api.neo4j_calls import open_api_driver
from kgrec.api.plan_warm_up import PlanWarmUp
from kgrec.api.routes import health, metrics, read_router, write_router
from kgrec.api.settings import ApiSettings
from kgrec.serving.phrasing.phraser import Phraser
from kgrec.settings import read_settings

DESCRIPTION = """Explainable recommendations served from a Neo4j knowledge graph.

Recommendations are the active model's materialised `RECOMMENDED` edges; a user with new
interactions since the last training is folded in by the frozen model on the next request
(`live: true`), and the list is written through to Neo4j. Explanations are paths in the graph
ranked by the model's evidence. Errors are always
`{"error": {"code", "message", "details"}}`. Writes need `X-API-Key` (`KGREC_API_KEY`);
reads need it only when `KGREC_READ_API_KEY` is set.
"""


def create_app(settings: ApiSettings | None = None, *, plan_ahead: bool = True) -> FastAPI:
    """Build the app; the Neo4j driver is opened at startup and closed at shutdown.

    Args:
        settings: everything the app reads: the Neo4j connection, the models folder it folds
            users in with, the keys and limits. Defaults to reading the environment
            (``NEO4J_*``, ``KGREC_*``), once: what ``uvicorn --factory`` does.
        plan_ahead: have Neo4j plan the API's queries at startup and after an outage
            (:mod:`kgrec.api.plan_warm_up`). Off only for an app that lives for a few requests
            on a schema that was just rebuilt (the tests): it would pay for ~50 plans it never uses.
    """
    settings = settings or read_settings(ApiSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opening a driver does not connect, so the service starts (and /healthz answers) even
        # while Neo4j is down; /readyz tells when it can serve.
        app.state.driver = open_api_driver(settings)
        if plan_ahead:
            app.state.plan_warm_up.start()
        threading.Thread(target=app.state.live_models.warm_up, args=(settings,), name="kgrec-model-warm-up",
                         daemon=True).start()
        try:
            yield
        finally:
            app.state.plan_warm_up.stop()
            app.state.phraser.close()
            app.state.driver.close()

    app = FastAPI(title="kgrec", version=version("kgrec"), description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.live_models = LiveModels(settings.models_dir)
    app.state.plan_warm_up = PlanWarmUp(settings)
    app.state.phraser = Phraser.from_settings(settings)  # loads a bundled model on first use, not here
    install_error_handlers(app)
    # Added last = outermost: the body limit answers before anything reads the body, and the
    # metrics see every answer, the limit's 413 included.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    read_guard = [Depends(require_read_key)] if settings.read_api_key is not None else []
    app.include_router(read_router, prefix="/v1", dependencies=read_guard)
    app.include_router(write_router, prefix="/v1")
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app
