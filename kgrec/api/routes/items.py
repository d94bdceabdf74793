"""``/v1/items/{item_id}/similar``: items close to one item, with what connects them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kgrec.api.deps import Neo4jDep
from kgrec.api.errors import ApiError, error_responses
from kgrec.api.schemas import MAX_K, NodeId, SimilarItems
from kgrec.serving import library

router = APIRouter(prefix="/items", tags=["items"],
                   responses=error_responses(401, 403, 404, 422, 503))


@router.get("/{item_id}/similar", response_model=SimilarItems)
async def similar_items(
    item_id: Annotated[NodeId, Path(description="the item's id")], neo4j: Neo4jDep,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many items")] = 10,
) -> SimilarItems:
    """Most similar items first, each with the categories / entities both items link to."""
    found = await neo4j.run(library.similar_items, item_id, k)
    if not found and not await neo4j.run(library.item_exists, item_id):
        raise ApiError(404, "unknown_item", f"no item with id {item_id!r}")
    return SimilarItems(item_id=item_id, items=found)
