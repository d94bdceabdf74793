"""Users as interaction histories: the one input every recommender scores from.

A user is what they did. :class:`Histories` holds a batch of users as CSR rows of item indices
with, per interaction, its place in the user's timeline (``recency``: 0 for the latest) and its
rating (NaN when the log has none). Binary-matrix models read :meth:`Histories.binary`; models
that weigh interactions by time or rating read the extra columns. The same object serves
training, evaluation, explanations (edited histories) and write-back, so no model has a private
way of being asked for scores.

Without timestamps, the timeline is the order the interactions come in (the temporal split
does the same, see :mod:`kgrec.engine.data.split`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns
from kgrec.graph_schema import ITEM, USER


@dataclass
class Histories:
    """A batch of users given by their interactions.

    Attributes:
        users: user index per row (-1 for a user the graph does not know).
        indptr: CSR pointer; row ``b``'s interactions are ``indptr[b]:indptr[b + 1]``.
        items: item index per interaction.
        recency: position from the end of the user's timeline (0 = latest), per interaction.
        rating: rating per interaction, NaN when unknown.
        edges: position of each interaction in ``columns.edges[INTERACTION_KEY]`` (-1 for one
            that is not in the graph), so per-interaction outputs can be written back.
        num_items: catalogue size (width of :meth:`binary`).
    """

    users: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    recency: np.ndarray
    rating: np.ndarray
    edges: np.ndarray
    num_items: int

    def __len__(self) -> int:
        return len(self.users)

    def binary(self) -> sp.csr_matrix:
        """The rows as a binary (users x items) CSR matrix."""
        return sp.csr_matrix((np.ones(len(self.items), np.float32), self.items, self.indptr),
                             shape=(len(self.users), self.num_items))

    def row_of(self) -> np.ndarray:
        """The batch row of every interaction."""
        return np.repeat(np.arange(len(self.users)), np.diff(self.indptr))

    def select(self, rows: np.ndarray) -> "Histories":
        """The histories of rows ``rows`` of this batch, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        take = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
        return Histories(self.users[rows], np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                         self.items[take], self.recency[take], self.rating[take], self.edges[take], self.num_items)

    def without(self, row: int, items: np.ndarray) -> "Histories":
        """Row ``row`` alone with ``items`` removed from it (the deletion test's edit); the other
        interactions keep their place in the timeline."""
        one = self.select(np.array([row]))
        keep = ~np.isin(one.items, items)
        return Histories(one.users, np.array([0, int(keep.sum())]), one.items[keep], one.recency[keep],
                         one.rating[keep], one.edges[keep], self.num_items)

    def only(self, row: int, items: np.ndarray) -> "Histories":
        """Row ``row`` alone with only ``items`` kept (the sufficiency test's edit)."""
        one = self.select(np.array([row]))
        return one.without(0, one.items[~np.isin(one.items, items)])


def histories_from_columns(columns: GraphColumns, mask: np.ndarray | None = None,
                           users: np.ndarray | None = None) -> Histories:
    """The histories of ``users`` (default: every user of the graph, in index order) made of the
    interactions selected by ``mask`` (default: all).

    The timeline orders a user's interactions by ``ts`` (missing last-known order: ties and
    missing timestamps keep the order of the columns), exactly as the temporal split does.
    """
    user_idx, item_idx = columns.edges[INTERACTION_KEY]
    attrs = columns.edge_attrs.get(INTERACTION_KEY, {})
    n = len(user_idx)
    mask = np.ones(n, bool) if mask is None else mask
    full = _timelines(user_idx, item_idx, attrs.get("ts"), attrs.get("rating"), np.flatnonzero(mask),
                      len(columns.node_ids[USER]), len(columns.node_ids[ITEM]))
    return full if users is None else full.select(np.asarray(users, dtype=np.int64))


def history_of(items: np.ndarray, ts: np.ndarray, rating: np.ndarray, num_items: int) -> Histories:
    """One user the graph need not know (``users == [-1]``), from their interactions in the
    order Neo4j returns them (item indices, timestamps and ratings, NaN where absent), with the
    timeline :func:`histories_from_columns` would give the same interactions."""
    n = len(items)
    history = _timelines(np.zeros(n, np.int64), np.asarray(items, np.int64), ts, rating, np.arange(n), 1, num_items)
    history.users[:] = -1
    history.edges[:] = -1
    return history


def _timelines(user_idx: np.ndarray, item_idx: np.ndarray, ts: np.ndarray | None, rating: np.ndarray | None,
               chosen: np.ndarray, num_users: int, num_items: int) -> Histories:
    """Histories of every user from the interactions ``chosen`` (positions in the columns)."""
    n = len(user_idx)
    ts = np.zeros(n) if ts is None else np.nan_to_num(np.asarray(ts, np.float64), nan=-np.inf)
    rating = np.full(n, np.nan) if rating is None else np.asarray(rating, np.float64)
    order = chosen[np.lexsort((chosen, ts[chosen], user_idx[chosen]))]  # by user, then time, then position
    sorted_users = user_idx[order]
    counts = np.bincount(sorted_users, minlength=num_users)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    recency = counts[sorted_users] - 1 - (np.arange(len(order)) - first[sorted_users])
    return Histories(np.arange(num_users), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                     item_idx[order].astype(np.int64), recency.astype(np.int64), rating[order], order,
                     num_items)
