"""Every error the API returns, in one JSON shape: ``{"error": {"code", "message", "details"}}``.

Clients branch on ``code`` (stable, snake_case) and show ``message`` (may change). Statuses:
400 a body that is not JSON; 401 missing key; 403 wrong key or writes disabled; 404 unknown
user, item (in a write too) or no active model; 413 a body over ``KGREC_MAX_BODY_BYTES``
(refused before it is read); 422 bad parameters or body fields; 503 (with ``Retry-After``) when
Neo4j is unreachable, too slow, or has no active model yet (/readyz). Anything unexpected
becomes a 500 in the same shape with a reference id; the traceback goes to the server log
(uvicorn logs the re-raised exception), never to the client.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import neo4j.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

#: Errors that mean "Neo4j can't serve this right now" (down, restarting, pool exhausted, or a
#: transient failure such as a deadlock that outlasted the driver's retries), as opposed to a bug
#: in a query: the client should retry later.
NEO4J_UNAVAILABLE: tuple[type[Exception], ...] = (
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
    neo4j.exceptions.ConnectionPoolError,
    neo4j.exceptions.TransientError,
)


#: error codes that mean Neo4j failed the request (counted in /metrics as kgrec_neo4j_errors_total)
NEO4J_ERROR_CODES = frozenset({"neo4j_unavailable", "neo4j_timeout"})


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable reason, e.g. unknown_user, neo4j_unavailable")
    message: str = Field(description="human-readable explanation; wording may change")
    details: Any = Field(None, description="structured extras, e.g. the invalid fields or unknown item ids")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An error the API answers deliberately, with its status and stable code."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status_code, self.code, self.message, self.details = status_code, code, message, details


_DESCRIPTIONS = {
    400: "the body is not valid JSON",
    413: "the body is larger than the server accepts (KGREC_MAX_BODY_BYTES)",
    401: "X-API-Key header missing",
    403: "X-API-Key wrong, or writes disabled because KGREC_API_KEY is not set",
    404: "unknown user, item or model",
    422: "invalid parameters or body",
    503: "Neo4j unreachable or too slow, or no active model; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``statuses``, so docs and schema checks know the shape."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        if status == 503:
            entry["headers"] = {"Retry-After": {"description": "seconds to wait before retrying",
                                                "schema": {"type": "integer"}}}
        responses[status] = entry
    return responses


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape, for handlers and for middleware that answers before any route."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _respond(request: Request, status: int, code: str, message: str, details: Any = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if status == 503:
        headers["Retry-After"] = str(request.app.state.settings.retry_after_s)
    if code in NEO4J_ERROR_CODES:
        request.app.state.metrics.neo4j_errors.labels(code).inc()
    return error_response(status, code, message, details, headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "ApiKey"} if exc.status_code == 401 else None
    return _respond(request, exc.status_code, exc.code, exc.message, exc.details, headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown path, wrong method) in our shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed",
            413: "body_too_large"}.get(exc.status_code, f"http_{exc.status_code}")
    return _respond(request, exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [{"loc": list(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    summary = "; ".join(f"{'.'.join(map(str, f['loc']))}: {f['message']}" for f in fields[:5])
    return _respond(request, 422, "invalid_request", summary or "invalid request", fields)


async def _neo4j_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("Neo4j unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 503, "neo4j_unavailable", "the graph database is unreachable or busy; retry later")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error %s during %s %s: %r", reference, request.method, request.url.path, exc)
    return _respond(request, 500, "internal_error", f"internal error; reference {reference} in the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for exc_type in NEO4J_UNAVAILABLE:
        app.add_exception_handler(exc_type, _neo4j_unavailable)
    app.add_exception_handler(Exception, _unexpected)
