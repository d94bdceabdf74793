"""``/v1/users/{user_id}/recommendations``: a user's top-K and why each item is there."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query

from kgrec.api.deps import LiveModelsDep, Neo4jDep, PhraserDep, SettingsDep
from kgrec.api.live_models import LiveModels
from kgrec.api.errors import ApiError, error_responses
from kgrec.api.neo4j_calls import Neo4jCalls
from kgrec.api.schemas import (MAX_K, MAX_PATHS, Explanation, NodeId, PublicExplanationPath,
                               PublicRecommendation, RecommendationList)
from kgrec.engine.fold_in import fold_in
from kgrec.engine.neo4j.new_items import catch_up
from kgrec.serving import library
from kgrec.serving.phrasing.phraser import Phraser
from kgrec.serving.results import ExplanationPath, Recommendation

#: items a live list stores (as many as a training's write-back), more when a request asks for more
LIVE_K = 20

router = APIRouter(prefix="/users/{user_id}/recommendations", tags=["recommendations"],
                   responses=error_responses(401, 403, 404, 422, 503))

UserId = Annotated[NodeId, Path(description="the user's id")]


async def _fold_in_if_changed(neo4j: Neo4jCalls, live_models: LiveModels, user_id: str, k: int,
                              read: int = 0) -> tuple[list[Recommendation] | None, list[dict] | None]:
    """When the user has interactions their stored list was not computed from, compute their
    top-``k`` now with the frozen active model and write it through; returns that list, or None
    when the stored list stands (current, no model that folds users in, no known item, or
    another model became active meanwhile: its own stored list is read then); and, when the
    stored list is current, its first ``read`` items as read with the state (one query).

    Raises:
        ApiError: 404 ``unknown_user``.
    """
    state = await neo4j.run(library.recommendation_state, user_id, read)
    if not state.user_exists:
        raise ApiError(404, "unknown_user", f"no user with id {user_id!r}")
    current = state.recommendations if state.current else None
    if state.current or not state.version or not state.history:
        return None, current
    frozen = await live_models.frozen(state.version, state.checkpoint)
    if frozen is not None and frozen.added_count < state.added_items:  # items added from their links since
        frozen = await live_models.updated(frozen, lambda model: neo4j.run(catch_up, model))
    live = frozen and await anyio.to_thread.run_sync(fold_in, frozen, state.history, k)
    if not live:
        return None, None
    return await neo4j.run(library.store_live_recommendations, user_id, live, state.embedding_property), None


PhraseQuery = Annotated[bool, Query(description="also phrase each path with the language model (KGREC_LLM_URL, "
                                                 "else the bundled one): its sentence is shown (phrasing: llm) "
                                                 "only if every name and number in it is a fact of the path; "
                                                 "paths not phrased within KGREC_LLM_BUDGET_S get the template "
                                                 "now and their phrase on a later request")]


async def _phrase(phraser: Phraser, paths: list[ExplanationPath], budget_s: float) -> list[ExplanationPath]:
    """Phrase ``paths`` in a worker thread, waiting at most ``budget_s``; the newly phrased ones."""
    return await anyio.to_thread.run_sync(phraser.phrase, paths, budget_s)


@router.get("", response_model=RecommendationList)
async def list_recommendations(
    user_id: UserId, neo4j: Neo4jDep, live_models: LiveModelsDep,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many items")] = 10,
    explain: Annotated[bool, Query(description="attach explanation paths to each item (model strategy "
                                               "only: fallback items are popularity picks)")] = False,
    paths: Annotated[int, Query(ge=1, le=MAX_PATHS, description="paths per item when explain=true")] = 3,
    phrase: PhraseQuery = False, *, phraser: PhraserDep, settings: SettingsDep,
) -> RecommendationList:
    """The user's top-``k`` from the active model, best first.

    When the user has interactions the stored list was not computed from (a new user, or new
    interactions since the last training), the list is computed now from the user's current
    interactions with the frozen active model, written through to Neo4j (so Cypher and Neo4j
    Browser show the same list) and served with ``live: true``. Users with no interaction with
    an item the model knows get the popularity fallback.
    """
    explain = explain or phrase
    stored, current = await _fold_in_if_changed(neo4j, live_models, user_id, max(k, LIVE_K), read=k)
    if stored is None or explain:
        stored = await neo4j.run(library.recommendations, user_id, k, paths if explain else 0, stored=current)
    if stored and phrase:
        shown = stored[:k]
        if await _phrase(phraser, [p for rec in shown for p in rec.explanations or []], settings.llm_budget_s):
            await neo4j.run(library.store_phrases, user_id, shown)
    if stored:
        return RecommendationList(user_id=user_id, strategy="model", model=stored[0].model, live=stored[0].live,
                                  items=[PublicRecommendation.from_recommendation(r) for r in stored[:k]])
    fallback = await neo4j.run(library.fallback_recommendations, user_id, k)
    return RecommendationList(user_id=user_id, strategy="fallback", model=None, live=False,
                              items=[PublicRecommendation.from_recommendation(r) for r in fallback])


@router.get("/{item_id}/explanation", response_model=Explanation)
async def explain_item(
    user_id: UserId, item_id: Annotated[NodeId, Path(description="the item's id")], neo4j: Neo4jDep,
    live_models: LiveModelsDep,
    paths: Annotated[int, Query(ge=1, le=MAX_PATHS, description="how many paths")] = 5,
    phrase: PhraseQuery = False, *, phraser: PhraserDep, settings: SettingsDep,
) -> Explanation:
    """Why ``item_id`` is (or would be) recommended to the user: the graph paths linking them,
    one per piece of the model's evidence, other users shown only as a count.

    Works for any item, recommended or not; ``in_top_k`` says which. Phrases asked for here are
    kept in the service's memory, not on an edge (the item may not be recommended).
    """
    await _fold_in_if_changed(neo4j, live_models, user_id, LIVE_K)
    rec = await neo4j.run(library.recommendation_for, user_id, item_id)
    if rec is None:
        if not await neo4j.run(library.item_exists, item_id):
            raise ApiError(404, "unknown_item", f"no item with id {item_id!r}")
    found = await neo4j.run(library.explanation_paths, user_id, item_id, paths)
    if phrase:
        await _phrase(phraser, found, settings.llm_budget_s)
    return Explanation(user_id=user_id, item_id=item_id, in_top_k=rec is not None,
                       rank=rec.rank if rec else None, score=rec.score if rec else None,
                       model=rec.model if rec else None,
                       paths=[PublicExplanationPath.from_path(p) for p in found])
