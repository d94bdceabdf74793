"""The per-user temporal hold-out of docs/design.md, and the validation split for early stopping.

For every user, interactions are ordered by time (ties by position, so the split is
deterministic); the latest ``test_fraction`` go to test, then the latest ``val_fraction`` of what
remains go to validation. Users with fewer than ``min_interactions`` keep everything in train:
there is nothing to hold out without leaving them empty. Training never sees test rows; learned
models also never fit on validation rows (they stop on them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns


@dataclass
class Split:
    """Masks over the interaction arrays of one graph (aligned with ``columns.edges[INTERACTION_KEY]``)."""

    users: np.ndarray
    items: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    num_users: int
    num_items: int

    def matrix(self, mask: np.ndarray) -> sp.csr_matrix:
        """A binary user x item CSR matrix of the interactions selected by ``mask``."""
        rows, cols = self.users[mask], self.items[mask]
        return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(self.num_users, self.num_items))

    def fit_columns(self, columns: GraphColumns, mask: np.ndarray) -> GraphColumns:
        """``columns`` with only the interactions selected by ``mask`` (the knowledge part kept)."""
        edges = dict(columns.edges)
        edges[INTERACTION_KEY] = (self.users[mask], self.items[mask])
        attrs = dict(columns.edge_attrs)
        attrs[INTERACTION_KEY] = {k: v[mask] for k, v in columns.edge_attrs.get(INTERACTION_KEY, {}).items()}
        return GraphColumns(columns.node_ids, edges, attrs)


def interaction_matrix(columns: GraphColumns) -> sp.csr_matrix:
    """The binary user x item CSR matrix of ``columns``' interactions."""
    users, items = columns.edges[INTERACTION_KEY]
    return sp.csr_matrix((np.ones(len(users), np.float32), (users, items)),
                         shape=(len(columns.node_ids["User"]), len(columns.node_ids["Item"])))


def temporal_split(columns: GraphColumns, test_fraction: float = 0.2, val_fraction: float = 0.1,
                   min_interactions: int = 3) -> Split:
    """Split ``columns``' interactions per user by time (see the module docstring)."""
    users, items = columns.edges[INTERACTION_KEY]
    ts = columns.edge_attrs.get(INTERACTION_KEY, {}).get("ts")
    ts = np.zeros(len(users)) if ts is None else np.nan_to_num(ts, nan=-np.inf)
    order = np.lexsort((np.arange(len(users)), ts, users))
    counts = np.bincount(users, minlength=len(columns.node_ids["User"]))
    sorted_users = users[order]
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(order)) - first[sorted_users]  # rank in the user's timeline
    n = counts[sorted_users]
    n_test = np.where(n >= min_interactions, np.ceil(test_fraction * n), 0).astype(np.int64)
    n_val = np.where(n >= min_interactions, np.floor(val_fraction * (n - n_test)), 0).astype(np.int64)
    from_end = n - 1 - position
    is_test = np.zeros(len(users), bool)
    is_val = np.zeros(len(users), bool)
    is_test[order] = from_end < n_test
    is_val[order] = (from_end >= n_test) & (from_end < n_test + n_val)
    return Split(users, items, ~(is_test | is_val), is_val, is_test, len(counts),
                 len(columns.node_ids["Item"]))
