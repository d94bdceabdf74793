"""Shared resources for routes, injected with ``Depends`` so tests can swap them.

The driver and settings live on ``app.state`` (created by the app factory and its lifespan),
never in module globals, so two apps in one process (e.g. a test pointing one at a dead port)
never share a connection pool.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from kgrec.api.errors import ApiError
from kgrec.api.live_models import LiveModels
from kgrec.api.neo4j_calls import Neo4jCalls
from kgrec.api.settings import ApiSettings
from kgrec.serving.phrasing.phraser import Phraser

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="KGREC_API_KEY for writes; KGREC_READ_API_KEY (or the write key) for reads when a read key is set")


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]


def get_neo4j(request: Request, settings: SettingsDep) -> Neo4jCalls:
    """Neo4j access for this request; its deadline starts now. A call Neo4j cannot serve asks
    for the API's queries to be planned again (Neo4j may have restarted and lost its plans)."""
    return Neo4jCalls(request.app.state.driver, settings.neo4j.database, settings.request_timeout_s,
                      request.app.state.plan_warm_up.request)


Neo4jDep = Annotated[Neo4jCalls, Depends(get_neo4j)]


def get_live_models(request: Request) -> LiveModels:
    return request.app.state.live_models


LiveModelsDep = Annotated[LiveModels, Depends(get_live_models)]


def get_phraser(request: Request) -> Phraser:
    return request.app.state.phraser


PhraserDep = Annotated[Phraser, Depends(get_phraser)]
ApiKey = Annotated[str | None, Security(_api_key_header)]


def _check_key(given: str | None, accepted: list[SecretStr]) -> None:
    if given is None:
        raise ApiError(401, "missing_api_key", "this route needs an X-API-Key header")
    given_bytes = given.encode()
    # compare_digest on every accepted key, so timing does not reveal which (if any) matched
    matches = [secrets.compare_digest(given_bytes, key.get_secret_value().encode()) for key in accepted]
    if not any(matches):
        raise ApiError(403, "invalid_api_key", "the X-API-Key header is not a valid key for this route")


def require_read_key(settings: SettingsDep, key: ApiKey) -> None:
    """The read key or the write key; installed on the read routes only when
    ``KGREC_READ_API_KEY`` is set (reads are open otherwise)."""
    _check_key(key, [k for k in (settings.read_api_key, settings.api_key) if k is not None])


def require_write_key(settings: SettingsDep, key: ApiKey) -> None:
    """Writes need ``KGREC_API_KEY``; with none configured they are refused for everyone, so a
    deployment that forgot the key is read-only rather than open."""
    if settings.api_key is None:
        raise ApiError(403, "writes_disabled", "writes are disabled: the server has no KGREC_API_KEY set")
    _check_key(key, [settings.api_key])
