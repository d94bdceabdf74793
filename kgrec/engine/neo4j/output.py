"""From a fitted model to what the write-back stores: embeddings, attention, top-K with evidence.

The model scores every user from *all* their interactions (not only the fitted ones), and gives
every relationship it attends over an attention value. For each recommendation it also hands
over its **evidence**: the user's interactions ranked by their exact contribution to the score
(:meth:`~kgrec.engine.models.base.Recommender.contributions`), so Cypher, the API and Neo4j
Browser show the ranking the model itself computed.
"""

from __future__ import annotations

import numpy as np
import torch

from kgrec.engine.data.graph import GraphColumns
from kgrec.engine.data.histories import Histories
from kgrec.engine.evaluation.metrics import top_k
from kgrec.engine.models.base import Recommender
from kgrec.engine.neo4j.writeback import ModelOutput
from kgrec.progress import progress_bar

#: evidence interactions kept per recommendation
EVIDENCE = 10


def model_output(model: Recommender, columns: GraphColumns, histories: Histories, version: str, k: int = 20,
                 params: dict | None = None, metrics: dict | None = None, user_batch: int = 1024,
                 progress: bool = False) -> ModelOutput:
    """Embeddings per label, attention per relationship and the top-``k`` unseen items per user,
    each with its :data:`EVIDENCE` strongest interactions.

    Args:
        model: the fitted, publishable model.
        columns: the full graph.
        histories: every user of ``columns`` in index order, with all their interactions.
        version: the model version to tag everything with.
        k: recommendations per user.
        progress: a progress bar per user (on a terminal only): scores and evidence take minutes
            at a million interactions.
    """
    n_users = len(histories)
    top_items = np.full((n_users, k), -1, np.int64)
    top_scores = np.zeros((n_users, k), np.float32)
    evidence_items = np.full((n_users, k, EVIDENCE), -1, np.int64)
    evidence_weights = np.zeros((n_users, k, EVIDENCE), np.float32)
    for start in progress_bar(range(0, n_users, user_batch), desc="scoring users", unit="batches", enabled=progress):
        batch = np.arange(start, min(start + user_batch, n_users))
        top_items[batch], top_scores[batch] = ranked(model, histories.select(batch), k)
    for user in progress_bar(range(n_users), desc="evidence of each recommendation", unit="users", enabled=progress):
        targets = top_items[user][top_items[user] >= 0]
        items, weights = strongest_evidence(model, histories, user, targets)
        evidence_items[user, :items.shape[0], :items.shape[1]] = items
        evidence_weights[user, :items.shape[0], :items.shape[1]] = weights
    attention = model.attention(columns, histories) or {}
    embeddings = model.embeddings(columns, histories) or {}
    return ModelOutput(version, embeddings, attention, top_items, top_scores, params or {}, metrics or {},
                       evidence_items=evidence_items, evidence_weights=evidence_weights)


def ranked(model: Recommender, histories: Histories, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best items per row that the row has not interacted with, and their scores:
    (rows x k) arrays, padded with item -1 (score 0) when fewer than ``k`` items are unseen."""
    seen = histories.binary()
    scores = model.score(histories)
    best = top_k(scores, seen, np.arange(len(histories)), k)
    chosen = torch.gather(scores, 1, best)
    unseen = histories.num_items - np.diff(seen.indptr)
    width = best.shape[1]
    valid = np.arange(width)[None, :] < np.minimum(unseen, width)[:, None]
    items = np.full((len(histories), k), -1, np.int64)
    scores_out = np.zeros((len(histories), k), np.float32)
    items[:, :width] = np.where(valid, best.numpy(), -1)
    scores_out[:, :width] = np.where(valid, chosen.numpy(), 0.0)
    return items, scores_out


def strongest_evidence(model: Recommender, histories: Histories, row: int,
                       targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``targets``, the row's (at most :data:`EVIDENCE`) interactions that
    contribute most to its score, strongest first, and their contributions: two (targets x
    evidence) arrays, empty when the model has no exact contributions."""
    parts = model.contributions(histories, row, targets) if len(targets) else None
    if parts is None or len(parts) == 0:
        return np.zeros((0, 0), np.int64), np.zeros((0, 0), np.float32)
    items = histories.items[histories.indptr[row]:histories.indptr[row + 1]]
    strongest = np.argsort(-parts, axis=0, kind="stable")[:EVIDENCE]
    return items[strongest].T, np.take_along_axis(parts, strongest, 0).T
