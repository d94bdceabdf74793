"""Full-ranking top-K metrics: Recall@K, NDCG@K, HitRate@K and catalogue coverage, and the
lists' diversity and novelty.

Every item the user has not interacted with in the "known" matrix is ranked (no sampled
negatives); known items are excluded from the ranking. Recall divides hits by the number of
held-out items, NDCG uses binary relevance with the ideal DCG of min(K, held-out) hits, coverage
is the share of the catalogue that appears in at least one user's top-K.

**Segments** (:func:`segments`) repeat NDCG@K and Recall@K on part of the test, with the same
lists: cold items, users with a short history, users with a long one.

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

#: an item with at most this many known interactions is cold (:func:`segments`)
COLD_ITEM_MAX = 5
#: a user with at most this many known interactions has a short history (:func:`segments`)
SHORT_HISTORY_MAX = 20
#: a user with at least this many known interactions has a long history (:func:`segments`)
LONG_HISTORY_MIN = 200
#: the segments of :func:`segments`, in the order tables show them
SEGMENTS = ("cold_items", "short_history", "long_history")

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


def segments(lists: np.ndarray, users: np.ndarray, held_out: sp.csr_matrix, known: sp.csr_matrix,
             k: int = 20) -> dict[str, float]:
    """NDCG@``k`` and Recall@``k`` on three parts of the test, from the same top-K ``lists`` of
    :func:`held_out_users`' ``users`` (the ranking over every unknown item is unchanged).

    "Known" interactions are ``known``'s: the ones the scored models were fitted on and score
    from (train + validation in :func:`~kgrec.engine.evaluation.evaluate.run_evaluation`).

    - ``cold_items``: the held-out interactions whose item has at most :data:`COLD_ITEM_MAX`
      known interactions (any user). Only those count as relevant: a user's Recall is the share
      of their cold held-out items in the top-K, NDCG uses the ideal DCG of min(K, their cold
      held-out items); every other item in a list is a miss. Averaged over the users with at
      least one cold held-out item.
    - ``short_history``: the users with at most :data:`SHORT_HISTORY_MAX` known interactions,
      all their held-out interactions (the usual per-user measures, averaged over these users).
    - ``long_history``: the users with at least :data:`LONG_HISTORY_MIN` known interactions.

    Per segment: ``<segment>:ndcg@k``, ``<segment>:recall@k`` (NaN for an empty segment),
    ``<segment>:users`` and ``<segment>:interactions`` (held-out interactions counted).
    """
    known_items = np.asarray((known > 0).sum(0)).ravel()
    history = np.diff(known.indptr)[users]
    cold = sp.csr_matrix(held_out.multiply((known_items <= COLD_ITEM_MAX)[None, :].astype(np.float32)))
    cold.eliminate_zeros()
    parts = {"cold_items": (np.diff(cold.indptr)[users] > 0, cold),
             "short_history": (history <= SHORT_HISTORY_MAX, held_out),
             "long_history": (history >= LONG_HISTORY_MIN, held_out)}
    result: dict[str, float] = {}
    for name, (chosen, relevant) in parts.items():
        measured = accuracy(lists[chosen][:, :k], users[chosen], relevant, (k,)) if chosen.any() else {}
        result[f"{name}:ndcg@{k}"] = measured.get(f"ndcg@{k}", float("nan"))
        result[f"{name}:recall@{k}"] = measured.get(f"recall@{k}", float("nan"))
        result[f"{name}:users"] = float(chosen.sum())
        result[f"{name}:interactions"] = float((relevant[users[chosen]] > 0).sum())
    return result
