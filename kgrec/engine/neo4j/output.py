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
    n_users, n_items = len(histories), histories.num_items
    seen = histories.binary()
    top_items = np.full((n_users, k), -1, np.int64)
    top_scores = np.zeros((n_users, k), np.float32)
    evidence_items = np.full((n_users, k, EVIDENCE), -1, np.int64)
    evidence_weights = np.zeros((n_users, k, EVIDENCE), np.float32)
    for start in progress_bar(range(0, n_users, user_batch), desc="scoring users", unit="batches", enabled=progress):
        batch = np.arange(start, min(start + user_batch, n_users))
        scores = model.score(histories.select(batch))
        best = top_k(scores, seen, batch, k)
        chosen = torch.gather(scores, 1, best)
        unseen = n_items - np.diff(seen[batch].indptr)
        width = best.shape[1]
        valid = np.arange(width)[None, :] < np.minimum(unseen, width)[:, None]
        top_items[batch, :width] = np.where(valid, best.numpy(), -1)
        top_scores[batch, :width] = np.where(valid, chosen.numpy(), 0.0)
    for user in progress_bar(range(n_users), desc="evidence of each recommendation", unit="users", enabled=progress):
        targets = top_items[user][top_items[user] >= 0]
        if len(targets) == 0:
            continue
        parts = model.contributions(histories, user, targets)
        if parts is None or len(parts) == 0:
            continue
        items = histories.items[histories.indptr[user]:histories.indptr[user + 1]]
        strongest = np.argsort(-parts, axis=0, kind="stable")[:EVIDENCE]
        n = strongest.shape[0]
        evidence_items[user, :len(targets), :n] = items[strongest].T
        evidence_weights[user, :len(targets), :n] = np.take_along_axis(parts, strongest, 0).T
    attention = model.attention(columns, histories) or {}
    embeddings = model.embeddings(columns, histories) or {}
    return ModelOutput(version, embeddings, attention, top_items, top_scores, params or {}, metrics or {},
                       evidence_items=evidence_items, evidence_weights=evidence_weights)
