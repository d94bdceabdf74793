"""``/healthz`` and ``/readyz`` for orchestrators; open even when a read key is set."""

from __future__ import annotations

from fastapi import APIRouter

from kgrec.api.deps import Neo4jDep
from kgrec.api.errors import ApiError, error_responses
from kgrec.api.schemas import Health, Readiness
from kgrec.serving import library

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive (does not touch Neo4j, so a database outage never restarts it)."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses=error_responses(503))
async def readyz(neo4j: Neo4jDep) -> Readiness:
    """Ready to serve: Neo4j answers and a model is active."""
    model = await neo4j.run(library.active_model)
    if model is None:
        raise ApiError(503, "no_active_model", "Neo4j is reachable but no model is active; run `kgrec train`")
    return Readiness(model=model.version)
