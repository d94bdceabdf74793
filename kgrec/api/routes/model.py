"""``/v1/model``: provenance of the model whose recommendations are served."""

from __future__ import annotations

from fastapi import APIRouter

from kgrec.api.deps import Neo4jDep
from kgrec.api.errors import ApiError, error_responses
from kgrec.serving import library
from kgrec.serving.results import ModelInfo

router = APIRouter(prefix="/model", tags=["model"],
                   responses=error_responses(401, 403, 404, 503))


@router.get("", response_model=ModelInfo)
async def active_model(neo4j: Neo4jDep) -> ModelInfo:
    """The active model: version, when it was trained, its parameters and offline metrics."""
    model = await neo4j.run(library.active_model)
    if model is None:
        raise ApiError(404, "no_active_model", "no model has been trained yet; run `kgrec train`")
    return model
