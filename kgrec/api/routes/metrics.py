"""``/metrics`` for Prometheus; open like ``/healthz`` (see :mod:`kgrec.api.metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kgrec.api.deps import Neo4jDep
from kgrec.api.errors import ApiError, NEO4J_UNAVAILABLE
from kgrec.serving import library

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
async def metrics(request: Request, neo4j: Neo4jDep) -> Response:
    """Request counts and latency by route and status, Neo4j errors, the active model version.

    Always 200: when Neo4j does not answer, the scrape still succeeds, without the active
    model series, and the failure is counted in ``kgrec_neo4j_errors_total``.
    """
    collected = request.app.state.metrics
    try:
        model = await neo4j.run(library.active_model)
    except ApiError as exc:  # the request deadline passed
        collected.neo4j_errors.labels(exc.code).inc()
        model = None
    except NEO4J_UNAVAILABLE:
        collected.neo4j_errors.labels("neo4j_unavailable").inc()
        model = None
    collected.set_active_model(model.version if model else None)
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
