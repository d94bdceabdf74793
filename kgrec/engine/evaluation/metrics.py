"""Full-ranking top-K metrics: Recall@K, NDCG@K, HitRate@K and catalogue coverage, and the
lists' diversity and novelty.

Every item the user has not interacted with in the "known" matrix is ranked (no sampled
negatives); known items are excluded from the ranking. Recall divides hits by the number of
held-out items, NDCG uses binary relevance with the ideal DCG of min(K, held-out) hits, coverage
is the share of the catalogue that appears in at least one user's top-K.

The measures read top-K lists (:func:`top_k_lists`), so one scoring of the users serves all of
them: scoring is what costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.graph import GraphColumns
from kgrec.graph_schema import CATEGORY, IN_CATEGORY, ITEM

#: scores(user indices) -> (len(users), num_items) array or tensor, higher is better
ScoreFn = Callable[[np.ndarray], "np.ndarray | torch.Tensor"]


def top_k(scores: torch.Tensor, known: sp.csr_matrix, users: np.ndarray, k: int) -> torch.Tensor:
    """Indices of the ``k`` best items per user, excluding the user's known items."""
    scores = scores.clone().float()
    block = known[users]
    rows = np.repeat(np.arange(len(users)), np.diff(block.indptr))
    scores[torch.from_numpy(rows), torch.from_numpy(block.indices.astype(np.int64))] = -torch.inf
    return torch.topk(scores, min(k, scores.shape[1]), dim=1).indices


def top_k_lists(score: ScoreFn, known: sp.csr_matrix, users: np.ndarray, k: int,
                batch_size: int = 1024) -> np.ndarray:
    """The ``k`` best items of each of ``users`` (one row each, in their order), known items
    excluded, scoring ``batch_size`` users at a time (bounds memory to ``batch_size x num_items``)."""
    lists = [top_k(torch.as_tensor(score(users[start:start + batch_size])), known, users[start:start + batch_size],
                   k).numpy() for start in range(0, len(users), batch_size)]
    return np.concatenate(lists) if lists else np.zeros((0, min(k, known.shape[1])), np.int64)


def held_out_users(held_out: sp.csr_matrix) -> np.ndarray:
    """The users the accuracy measures average over: those with held-out items."""
    return np.flatnonzero(np.diff(held_out.indptr) > 0)


def evaluate(score: ScoreFn, known: sp.csr_matrix, held_out: sp.csr_matrix, ks: Sequence[int] = (10, 20),
             batch_size: int = 1024) -> dict[str, float]:
    """Mean Recall/NDCG/HitRate@K over users with held-out items, and coverage@K.

    Args:
        score: the model under test.
        known: user x item interactions the model was given (excluded from ranking).
        held_out: user x item interactions to find.
        ks: cut-offs.
        batch_size: users scored at once (bounds memory to ``batch_size x num_items``).
    """
    users = held_out_users(held_out)
    return accuracy(top_k_lists(score, known, users, max(ks), batch_size), users, held_out, ks, batch_size)


def accuracy(lists: np.ndarray, users: np.ndarray, held_out: sp.csr_matrix, ks: Sequence[int] = (10, 20),
             batch_size: int = 1024) -> dict[str, float]:
    """:func:`evaluate` of the top-``max(ks)`` ``lists`` of :func:`held_out_users`' ``users``."""
    kmax = max(ks)
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    sums = {f"{name}@{k}": 0.0 for k in ks for name in ("recall", "ndcg", "hit_rate")}
    shown = {k: np.zeros(held_out.shape[1], bool) for k in ks}
    for start in range(0, len(users), batch_size):
        batch = users[start:start + batch_size]
        ranked = lists[start:start + batch_size]
        truth = held_out[batch]
        hits = np.take_along_axis(truth.toarray() > 0, ranked, axis=1)
        n_true = np.diff(truth.indptr)
        for k in ks:
            hit_k = hits[:, :k]
            ideal = np.cumsum(discount[:k])[np.minimum(n_true, k) - 1]
            sums[f"recall@{k}"] += float((hit_k.sum(1) / n_true).sum())
            sums[f"ndcg@{k}"] += float(((hit_k * discount[:k]).sum(1) / ideal).sum())
            sums[f"hit_rate@{k}"] += float(hit_k.any(1).sum())
            shown[k][ranked[:, :k].ravel()] = True
    result = {name: value / max(len(users), 1) for name, value in sums.items()}
    result.update({f"coverage@{k}": float(shown[k].mean()) for k in ks})
    result["users"] = float(len(users))
    return result


def history_users(known: sp.csr_matrix) -> np.ndarray:
    """The users the list measures average over: those with a history."""
    return np.flatnonzero(np.diff(known.indptr) > 0)


def list_quality(lists: np.ndarray, known: sp.csr_matrix, columns: GraphColumns, k: int = 20,
                 batch_size: int = 1024) -> dict[str, float]:
    """Beyond accuracy, over the top-K ``lists`` of every user with a history
    (:func:`history_users`): **intra-list diversity** (mean pairwise Jaccard distance between the
    category sets of a list's items; items without a category count as sharing none) and
    **novelty** (mean self-information :math:`-\\log_2 p(i)` of recommended items, :math:`p(i)`
    the share of users who know item :math:`i`). ``k`` is the lists' cut-off, in the measures' names."""
    n_users, n_items = known.shape
    key = (ITEM, IN_CATEGORY, CATEGORY)
    items, cats = columns.edges.get(key, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    membership = sp.csr_matrix((np.ones(len(items), np.float32), (items, cats)),
                               shape=(n_items, max(len(columns.node_ids.get(CATEGORY, [])), 1)))
    membership.data[:] = 1.0
    sizes = np.asarray(membership.sum(1)).ravel()
    popularity = np.asarray((known > 0).sum(0)).ravel() / max(n_users, 1)
    information = -np.log2(np.maximum(popularity, 1.0 / max(n_users, 1)))
    diversity, novelty = [], []
    for start in range(0, len(lists), batch_size):
        ranked = lists[start:start + batch_size]
        novelty.append(information[ranked].mean(1))
        for row in ranked:
            rows = membership[row]
            shared = (rows @ rows.T).toarray()
            union = sizes[row][:, None] + sizes[row][None, :] - shared
            distance = 1.0 - np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
            pairs = len(row) * (len(row) - 1)
            diversity.append((distance.sum() - np.trace(distance)) / pairs if pairs else 0.0)
    return {f"diversity@{k}": float(np.mean(diversity)) if diversity else 0.0,
            f"novelty@{k}": float(np.concatenate(novelty).mean()) if novelty else 0.0}
