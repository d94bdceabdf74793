"""``GET /metrics`` in the Prometheus text format (``prometheus-client``).

What is measured: requests by method, route template and status
(``kgrec_http_requests_total``), their latency (``kgrec_http_request_duration_seconds``, by
method, route and status), the requests Neo4j failed (``kgrec_neo4j_errors_total`` by error
code: ``neo4j_unavailable``, ``neo4j_timeout``), and the active model
(``kgrec_active_model_info{version}`` = 1, read from Neo4j at each scrape; no series while
none is active or Neo4j does not answer).

Routes are labelled by their template (``/v1/users/{user_id}/recommendations``), and paths that
match no route by ``<unmatched>``, so the number of series stays bounded whatever clients ask.
Each app has its own registry (two apps in one process, as in the tests, never share counts).
With ``kgrec serve --workers N`` each worker keeps its own counts: scrape them one by one, or
run one worker per container.
"""

from __future__ import annotations

import re
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"


class Metrics:
    """The API's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kgrec_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("kgrec_http_request_duration_seconds", "time to answer an HTTP request",
                                 ["method", "route", "status"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        self.neo4j_errors = Counter("kgrec_neo4j_errors", "requests that failed because of Neo4j, by error code",
                                    ["code"], registry=self.registry)
        self.active_model = Gauge("kgrec_active_model_info", "the active model's version (value 1)",
                                  ["version"], registry=self.registry)

    def set_active_model(self, version: str | None) -> None:
        """One series for the version now active (none when no model is active)."""
        self.active_model.clear()
        if version is not None:
            self.active_model.labels(version).set(1)


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by route template and status.

    The templates are the app's documented paths (its OpenAPI document) and its docs pages,
    matched against the request path as Starlette matches routes: public interfaces only, since
    where FastAPI records the matched route in the request differs between its versions.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app, self.metrics = app, metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    def _route(self, scope: Scope) -> str:
        if self._templates is None:
            api = scope["app"]
            paths = [*api.openapi()["paths"], api.openapi_url, api.docs_url, api.redoc_url]
            self._templates = [(compile_path(path)[0], path) for path in paths if path]
        return next((path for regex, path in self._templates if regex.match(scope["path"])), UNMATCHED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            labels = (scope["method"], self._route(scope), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
