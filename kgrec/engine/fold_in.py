"""Folding a user in: recommendations from the user's current interactions, with the frozen model.

A model that :attr:`~kgrec.engine.models.base.Recommender.folds_in` defines a user by the
user's interactions only, so a user it was never trained on (a new user, or new interactions
since the last ``kgrec train``) is scored exactly as a trained one: the same
:meth:`~kgrec.engine.models.base.Recommender.score`, the same top-K rule and the same evidence
ranking as the write-back (:mod:`kgrec.engine.output`), over the item ids the model was saved
with. Nothing is trained and no other user or item is touched, so one user costs one scoring
pass over the catalogue.

Example:
    >>> frozen = load_frozen(Path(checkpoint))  # doctest: +SKIP
    >>> live = fold_in(frozen, [{"item_id": "i1", "rating": 5.0, "ts": 1700000000}], k=20)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgrec.engine.data.histories import history_of
from kgrec.engine.edge_evidence import evidence_properties
from kgrec.engine.output import ranked, strongest_evidence
from kgrec.engine.neo4j.persist import FrozenModel
from kgrec.graph_schema import USER


@dataclass
class LiveList:
    """One user's recommendations computed from their current interactions.

    Attributes:
        version: the model that computed them.
        items, scores: the top-K unseen items, best first, and their scores.
        evidence, evidence_weights: per item, the user's items that contribute most to its
            score, strongest first, and their contributions (empty lists when the model has no
            exact contributions).
        channels: per item, how those contributions split into the model's channels and who
            else interacted with both items (counted in the graph the model was trained on): the
            edge properties the write-back stores (:mod:`~kgrec.engine.edge_evidence`).
        embedding: the user's embedding in the model's space, or None.
        history: how many interactions the user had (known items or not): the list is current
            while the user's interaction count stays this.
    """

    version: str
    items: list[str]
    scores: list[float]
    evidence: list[list[str]]
    evidence_weights: list[list[float]]
    channels: list[dict[str, list]]
    embedding: list[float] | None
    history: int


def fold_in(frozen: FrozenModel, interactions: Sequence[Mapping[str, Any]], k: int) -> LiveList | None:
    """The top-``k`` of a user whose interactions are ``interactions`` (``item_id``, ``rating``
    and ``ts``, None when absent, in the order Neo4j returns them), or None when none of them is
    with an item the model knows (items added after training are not in its index space)."""
    positions = np.array([frozen.index.get(str(row["item_id"]), -1) for row in interactions], np.int64)
    known = positions >= 0
    if not known.any():
        return None
    ts = np.array([np.nan if row.get("ts") is None else row["ts"] for row in interactions], np.float64)
    rating = np.array([np.nan if row.get("rating") is None else row["rating"] for row in interactions], np.float64)
    history = history_of(positions[known], ts[known], rating[known], len(frozen.item_ids))
    top_items, top_scores = ranked(frozen.model, history, k)
    picks = top_items[0][top_items[0] >= 0]
    evidence = strongest_evidence(frozen.model, history, picks[None, :])
    embeddings = frozen.model.embeddings(None, history) or {}
    ids = frozen.item_ids
    edges = [{"evidence": [], "evidence_weights": []} for _ in picks]
    if evidence is not None:
        co_raters = (frozen.co_raters.count(evidence.items, picks[None, :])
                     if frozen.co_raters is not None else None)
        edges = evidence_properties(ids, evidence.items, evidence.weights, evidence.channels, np.zeros(1, np.int64),
                                    co_raters)[0]
    return LiveList(
        version=frozen.version, items=ids[picks].tolist(), scores=top_scores[0][:len(picks)].astype(float).tolist(),
        evidence=[edge.pop("evidence") for edge in edges],
        evidence_weights=[edge.pop("evidence_weights") for edge in edges], channels=edges,
        embedding=embeddings[USER][0].astype(float).tolist() if USER in embeddings else None,
        history=len(interactions))
