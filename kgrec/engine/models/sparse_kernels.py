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


@numba.njit(parallel=True, cache=True, nogil=True)
def partner_systems(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, partners: np.ndarray,
                    out: np.ndarray) -> None:
    """``out[b] = G[partners[b]][:, partners[b]]`` for a CSR Gram matrix :math:`G` with sorted
    indices and each row of ``partners`` sorted: a binary search per pair within the row, whose
    lower bound only moves right. The same searches vectorised with torch over one sorted key
    per non-zero took about six times as long (bench/bench_sparse_item_item.py)."""
    n_rows, k = partners.shape
    for b in numba.prange(n_rows):
        for p in range(k):
            a = partners[b, p]
            low, end = indptr[a], indptr[a + 1]
            for q in range(p, k):
                column, high = partners[b, q], end
                while low < high:
                    middle = (low + high) >> 1
                    if indices[middle] < column:
                        low = middle + 1
                    else:
                        high = middle
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
