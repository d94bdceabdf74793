"""Loops over sparse matrices that numpy, scipy and torch do not run well, compiled by numba:
reading the partners' systems out of a sparse Gram matrix, and multiplying weighted histories by
a sparse item-item matrix into dense scores.

Compiling takes seconds the first time; the compiled code is cached next to this file for the
next runs.
"""

from __future__ import annotations

import numba
import numpy as np


def use_threads(threads: int) -> None:
    """Run the compiled loops on ``threads`` threads (at most numba's own limit, the cores)."""
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


@numba.njit(cache=True, nogil=True)
def _lower_bound(indices: np.ndarray, low: int, high: int, column: int) -> int:
    """The first position in ``indices[low:high]`` (sorted) whose value is not below ``column``."""
    while low < high:
        middle = (low + high) >> 1
        if indices[middle] < column:
            low = middle + 1
        else:
            high = middle
    return low


@numba.njit(parallel=True, cache=True, nogil=True)
def partner_systems(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, partners: np.ndarray,
                    out: np.ndarray) -> None:
    """``out[b] = G[partners[b]][:, partners[b]]`` for a CSR Gram matrix :math:`G` with sorted
    indices and each row of ``partners`` sorted: a binary search per pair within the row, whose
    lower bound only moves right. Vectorised with numpy or torch, the same searches need one
    sorted int64 key per non-zero and a search over all of them."""
    n_rows, k = partners.shape
    for b in numba.prange(n_rows):
        for p in range(k):
            a = partners[b, p]
            low, end = indptr[a], indptr[a + 1]
            for q in range(p, k):
                column = partners[b, q]
                low = _lower_bound(indices, low, end, column)
                value = data[low] if low < end and indices[low] == column else 0.0
                out[b, p, q] = value
                out[b, q, p] = value


@numba.njit(parallel=True, cache=True, nogil=True)
def rows_times_sparse(row_indptr: np.ndarray, row_items: np.ndarray, row_values: np.ndarray,
                      indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    """``out += W @ B`` for a CSR ``W`` (``row_indptr``, ``row_items``, ``row_values``) and a CSR
    ``B`` (``indptr``, ``indices``, ``data``), ``out`` dense (rows x columns), parallel over rows.

    Why not scipy: its sparse product is single-threaded and builds a sparse result row by row,
    while a popular item's row of :math:`B` reaches most of the catalogue, so the scores of a
    batch of users are nearly dense; here each row of ``W`` adds its items' rows of ``B`` straight
    into its dense row."""
    for r in numba.prange(len(row_indptr) - 1):
        for t in range(row_indptr[r], row_indptr[r + 1]):
            item, value = row_items[t], row_values[t]
            for s in range(indptr[item], indptr[item + 1]):
                out[r, indices[s]] += value * data[s]


@numba.njit(parallel=True, cache=True, nogil=True)
def rows_through_entities(row_indptr: np.ndarray, row_items: np.ndarray, row_values: np.ndarray,
                          item_indptr: np.ndarray, item_entities: np.ndarray, item_left: np.ndarray,
                          entity_indptr: np.ndarray, entity_items: np.ndarray, entity_right: np.ndarray,
                          out: np.ndarray) -> None:
    """``out += (W @ L) @ R^T`` for a CSR ``W`` (rows x items), an item -> entity link matrix
    ``L`` by item (``item_indptr``, ``item_entities``, ``item_left``) and the same links' ``R``
    by entity (``entity_indptr``, ``entity_items``, ``entity_right``): one relation's two-hop
    propagation added to dense scores, parallel over rows.

    Each row sums its interactions' links into its entities, then spreads only the entities it
    reached, straight into its dense row: the work follows the row's entities, where a sparse x
    dense product over every item costs every link for every row, and writes the result
    transposed."""
    n_entities = len(entity_indptr) - 1
    for r in numba.prange(len(row_indptr) - 1):
        weight = np.zeros(n_entities, np.float32)
        for t in range(row_indptr[r], row_indptr[r + 1]):
            item, value = row_items[t], row_values[t]
            for link in range(item_indptr[item], item_indptr[item + 1]):
                weight[item_entities[link]] += value * item_left[link]
        for entity in range(n_entities):
            if weight[entity] != 0.0:
                for link in range(entity_indptr[entity], entity_indptr[entity + 1]):
                    out[r, entity_items[link]] += weight[entity] * entity_right[link]


@numba.njit(parallel=True, cache=True, nogil=True)
def pair_values(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray, columns: np.ndarray,
                out: np.ndarray) -> None:
    """``out[k] = A[rows[k], columns[k]]`` for a CSR ``A`` with sorted indices (0 where absent): a
    binary search in each pair's row."""
    for k in numba.prange(len(rows)):
        end = indptr[rows[k] + 1]
        low = _lower_bound(indices, indptr[rows[k]], end, columns[k])
        out[k] = data[low] if low < end and indices[low] == columns[k] else 0.0
