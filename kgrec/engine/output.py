"""From a fitted model to what the write-back stores: embeddings, attention, top-K with evidence.

The model scores every user from *all* their interactions (not only the fitted ones), and gives
every relationship it attends over an attention value. For each recommendation it also hands
over its **evidence**: the user's interactions ranked by their exact contribution to the score
(:meth:`~kgrec.engine.models.base.Recommender.contributions`), so Cypher, the API and Neo4j
Browser show the ranking the model itself computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from kgrec.engine.co_raters import CoRaterIndex, CoRaters
from kgrec.engine.data.graph import INTERACTION_KEY, EdgeKey, GraphColumns
from kgrec.engine.data.histories import Histories
from kgrec.engine.evaluation.metrics import top_k
from kgrec.engine.models.base import ChannelParts, Recommender
from kgrec.progress import progress_bar

#: evidence interactions kept per recommendation
EVIDENCE = 10


@dataclass
class ModelOutput:
    """Everything a trained model hands to the write-back, aligned with a :class:`GraphColumns`.

    Attributes:
        version: the new model version (unique).
        embeddings: label -> (nodes of that label, dim) array, rows in ``columns.node_ids`` order.
        item_messages: (items, dim) the items' message vectors (the queries of similar items,
            :meth:`~kgrec.engine.models.base.Recommender.item_messages`), or None.
        attention: relationship key -> (relationships,) values in [0, 1], in ``columns.edges`` order.
        top_items: (users, K) item indices per user in ``columns.node_ids["User"]`` order, best
            first; -1 pads a shorter list.
        top_scores: (users, K) the matching scores.
        params, metrics: JSON-serialisable provenance stored on the ``:Model`` node.
        checkpoint: path of the saved model (:mod:`kgrec.engine.neo4j.persist`), stored on the
            ``:Model`` node as ``checkpoint`` before the flip, so the active model always names
            its own weights.
        evidence_items, evidence_weights: (users, K, E) per recommendation, the user's
            interactions (item indices, -1 pads) that contribute most to its score, and their
            exact contributions; stored on the RECOMMENDED edge as ``evidence`` / ``evidence_weights``.
        evidence_channels: how each of those contributions splits into the model's channels
            (stored as :mod:`~kgrec.engine.edge_evidence` says); None for a model without the split.
        evidence_co_raters: the co-raters of each evidence item and its target, which an
            explanation states; None without evidence.
        co_rater_index: what they were counted from, kept with the checkpoint so that lists
            computed live count theirs the same way.
    """

    version: str
    embeddings: dict[str, np.ndarray]
    attention: dict[EdgeKey, np.ndarray]
    top_items: np.ndarray
    top_scores: np.ndarray
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    checkpoint: str | None = None
    evidence_items: np.ndarray | None = None
    evidence_weights: np.ndarray | None = None
    evidence_channels: ChannelParts | None = None
    item_messages: np.ndarray | None = None
    evidence_co_raters: CoRaters | None = None
    co_rater_index: CoRaterIndex | None = None


@dataclass
class Evidence:
    """The strongest evidence of each recommendation of a batch of users (see
    :func:`strongest_evidence`): (rows x T x :data:`EVIDENCE`) arrays, -1 past the last.

    Attributes:
        items: the evidence items (indices into the model's items).
        weights: their exact contributions to the target's score.
        interactions: their indices into the histories' interactions.
        channels: how each contribution splits into the model's channels (None when the model
            has no such split).
    """

    items: np.ndarray
    weights: np.ndarray
    interactions: np.ndarray
    channels: ChannelParts | None


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
        progress: a progress bar per batch of users (on a terminal only): scores and evidence
            take minutes at a million interactions.
    """
    n_users = len(histories)
    top_items = np.full((n_users, k), -1, np.int64)
    top_scores = np.zeros((n_users, k), np.float32)
    evidence_items = np.full((n_users, k, EVIDENCE), -1, np.int64)
    evidence_weights = np.zeros((n_users, k, EVIDENCE), np.float32)
    channels = None
    for start in progress_bar(range(0, n_users, user_batch), desc="scoring users, ranking evidence", unit="batches",
                              enabled=progress):
        batch = np.arange(start, min(start + user_batch, n_users))
        users = histories.select(batch)
        top_items[batch], top_scores[batch] = ranked(model, users, k)
        evidence = strongest_evidence(model, users, top_items[batch])
        if evidence is not None:
            evidence_items[batch], evidence_weights[batch] = evidence.items, evidence.weights
            if evidence.channels is not None:
                channels = channels or _empty_channels(evidence.channels, n_users)
                for name in ("collaborative", "knowledge", "link_relation", "link_entity", "link_part"):
                    getattr(channels, name)[batch] = getattr(evidence.channels, name)
    attention = model.attention(columns, histories) or {}
    embeddings = model.embeddings(columns, histories) or {}
    index = CoRaterIndex.from_columns(columns, attention.get(INTERACTION_KEY))
    counted = index.count(evidence_items, top_items) if (evidence_items >= 0).any() else None
    return ModelOutput(version, embeddings, attention, top_items, top_scores, params or {}, metrics or {},
                       evidence_items=evidence_items, evidence_weights=evidence_weights, evidence_channels=channels,
                       item_messages=model.item_messages(), evidence_co_raters=counted, co_rater_index=index)


def _empty_channels(like: ChannelParts, n_users: int) -> ChannelParts:
    """Every user's channel arrays, shaped and named as one batch's ``like``, kept compact:
    a million users' top-20 with ten pieces of evidence each hold 400 million values."""
    rest = like.link_part.shape[1:]
    return ChannelParts(collaborative=np.zeros((n_users, *rest[:-1]), np.float32),
                        knowledge=np.zeros((n_users, *rest[:-1]), np.float32),
                        link_relation=np.full((n_users, *rest), -1, np.int16),
                        link_entity=np.full((n_users, *rest), -1, np.int32),
                        link_part=np.zeros((n_users, *rest), np.float32),
                        relation_types=like.relation_types, entity_ids=like.entity_ids)


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


def strongest_evidence(model: Recommender, histories: Histories, targets: np.ndarray) -> Evidence | None:
    """For each row of ``histories`` and each of its ``targets`` ((rows x T) items, -1 for
    none), the row's (at most :data:`EVIDENCE`) interactions that contribute most to the
    target's score, strongest first, their contributions and how each splits into the model's
    channels. None when the model has no exact contributions.

    Ties keep the history's order. One sort over the whole batch: the write-back ranks the
    evidence of every recommendation of every user."""
    parts = model.contributions(histories, np.maximum(targets, 0)) if targets.size else None
    if parts is None:
        return None
    n_rows, width = targets.shape
    group = (histories.row_of()[:, None] * width + np.arange(width)[None, :]).ravel()
    order = np.lexsort((-parts.ravel(), group))
    grouped = group[order]
    rank = np.arange(len(order)) - np.searchsorted(grouped, grouped)
    kept = rank < EVIDENCE
    interaction, target = np.divmod(order[kept], width)
    items = np.full((n_rows, width, EVIDENCE), -1, np.int64)
    interactions = np.full((n_rows, width, EVIDENCE), -1, np.int64)
    weights = np.zeros((n_rows, width, EVIDENCE), np.float32)
    place = (grouped[kept] // width, target, rank[kept])
    items[place] = histories.items[interaction]
    interactions[place] = interaction
    weights[place] = parts[interaction, target]
    missing = targets < 0
    items[missing], interactions[missing], weights[missing] = -1, -1, 0.0
    return Evidence(items, weights, interactions, model.channels(histories, targets, interactions))

