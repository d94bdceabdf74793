"""Full-ranking top-K metrics: Recall@K, NDCG@K, HitRate@K and catalogue coverage.

Every item the user has not interacted with in the "known" matrix is ranked (no sampled
negatives); known items are excluded from the ranking. Recall divides hits by the number of
held-out items, NDCG uses binary relevance with the ideal DCG of min(K, held-out) hits, coverage
is the share of the catalogue that appears in at least one user's top-K.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch

#: scores(user indices) -> (len(users), num_items) array or tensor, higher is better
ScoreFn = Callable[[np.ndarray], "np.ndarray | torch.Tensor"]


def top_k(scores: torch.Tensor, known: sp.csr_matrix, users: np.ndarray, k: int) -> torch.Tensor:
    """Indices of the ``k`` best items per user, excluding the user's known items."""
    scores = scores.clone().float()
    block = known[users]
    rows = np.repeat(np.arange(len(users)), np.diff(block.indptr))
    scores[torch.from_numpy(rows), torch.from_numpy(block.indices.astype(np.int64))] = -torch.inf
    return torch.topk(scores, min(k, scores.shape[1]), dim=1).indices


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
    users = np.flatnonzero(np.diff(held_out.indptr) > 0)
    kmax = max(ks)
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    sums = {f"{name}@{k}": 0.0 for k in ks for name in ("recall", "ndcg", "hit_rate")}
    shown = {k: np.zeros(known.shape[1], bool) for k in ks}
    for start in range(0, len(users), batch_size):
        batch = users[start:start + batch_size]
        scores = torch.as_tensor(score(batch))
        ranked = top_k(scores, known, batch, kmax).numpy()
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


def list_quality(score: ScoreFn, known: sp.csr_matrix, columns, k: int = 20,
                 batch_size: int = 1024) -> dict[str, float]:
    """Beyond accuracy, over every user with a history: **intra-list diversity** (mean pairwise
    Jaccard distance between the category sets of a top-``k`` list's items; items without a
    category count as sharing none) and **novelty** (mean self-information
    :math:`-\\log_2 p(i)` of recommended items, :math:`p(i)` the share of users who know item
    :math:`i`)."""
    from kgrec.graph_schema import CATEGORY, IN_CATEGORY, ITEM

    n_users, n_items = known.shape
    key = (ITEM, IN_CATEGORY, CATEGORY)
    items, cats = columns.edges.get(key, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    membership = sp.csr_matrix((np.ones(len(items), np.float32), (items, cats)),
                               shape=(n_items, max(len(columns.node_ids.get(CATEGORY, [])), 1)))
    membership.data[:] = 1.0
    sizes = np.asarray(membership.sum(1)).ravel()
    popularity = np.asarray((known > 0).sum(0)).ravel() / max(n_users, 1)
    information = -np.log2(np.maximum(popularity, 1.0 / max(n_users, 1)))
    users = np.flatnonzero(np.diff(known.indptr) > 0)
    diversity, novelty = [], []
    for start in range(0, len(users), batch_size):
        batch = users[start:start + batch_size]
        ranked = top_k(torch.as_tensor(score(batch)), known, batch, k).numpy()
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
