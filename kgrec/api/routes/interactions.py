"""``POST /v1/interactions``: record what users did, so the next training and the fallback see it."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from kgrec.api.deps import Neo4jDep, require_write_key
from kgrec.api.errors import ApiError, error_responses
from kgrec.api.schemas import InteractionBatch, InteractionsRecorded
from kgrec.serving import library

router = APIRouter(prefix="/interactions", tags=["interactions"], dependencies=[Depends(require_write_key)],
                   responses=error_responses(400, 401, 403, 404, 413, 422, 503))


@router.post("", response_model=InteractionsRecorded)
async def record_interactions(batch: InteractionBatch, neo4j: Neo4jDep) -> InteractionsRecorded:
    """Write the batch in one transaction; a 200 means it is committed.

    Unknown users are created; an unknown item rejects the whole batch with 404 ``unknown_item``
    (``details.item_ids`` lists them) and writes nothing: like every route, an unknown item is a
    404, while 422 is kept for malformed requests. Each (user, item) pair is an upsert,
    so retrying after a 503 is safe even if the first attempt did commit.

    An interaction without ``ts`` gets the server's current time: clients rarely send one, and
    stored without a time it would count as the user's oldest interaction, where the model's
    recency weighting gives a rating just made the least say.
    """
    now = int(time.time())
    rows = [{**row.model_dump(), "ts": now if row.ts is None else row.ts} for row in batch.interactions]
    try:
        recorded = await neo4j.run(library.record_interactions, rows)
    except library.UnknownItemError as exc:
        raise ApiError(404, "unknown_item", str(exc), {"item_ids": exc.item_ids}) from None
    return InteractionsRecorded(recorded=recorded)
