r"""The published model's item-item weights :math:`B`, solved per item on its strongest partners
and held sparse, or held dense when solved as exact EASE.

EASE's column :math:`j` is the ridge regression of item :math:`j` on every other item. Fitting it
on :math:`j`'s ``neighbours`` strongest partners :math:`N_j` only (its largest co-occurrence
counts) replaces one items x items factorisation per penalty by one ``neighbours`` x
``neighbours`` solve per item, and leaves ``neighbours`` non-zeros per column: both the cost and
the memory grow with the items, not with their cube and square. The co-occurrence counts are a
sparse matrix too, so nothing here is items x items dense.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.models import sparse_kernels


def sparse_gram_matrix(train: sp.csr_matrix, items_per_block: int = 4096) -> sp.csr_matrix:
    r""":math:`G = X^\top X` of a binary user x item matrix as a float32 CSR matrix with sorted
    indices, built one block of items (rows of :math:`G`) at a time so that scipy's int64
    intermediate products stay the size of a block."""
    by_item = train.tocsc()
    blocks = [(by_item[:, start:start + items_per_block].T @ train).tocsr()
              for start in range(0, train.shape[1], items_per_block)]
    gram = sp.vstack(blocks, format="csr").astype(np.float32)
    gram.sort_indices()
    return gram


def strongest_partners(gram: sp.csr_matrix, neighbours: int,
                       items_per_block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Each item's ``neighbours`` largest co-occurrence counts' items (itself excluded), sorted
    by item index, and those counts: (items x neighbours) each. An item with fewer partners is
    filled with items it never co-occurred with, as a dense top-k of its row would."""
    n_items = gram.shape[0]
    partners = np.empty((n_items, neighbours), np.int64)
    counts = np.empty((n_items, neighbours), np.float32)
    for start in range(0, n_items, items_per_block):
        items = np.arange(start, min(start + items_per_block, n_items))
        rows = torch.from_numpy(gram[items].toarray())
        rows[torch.arange(len(items)), torch.from_numpy(items)] = -1.0  # never its own partner
        strongest = rows.topk(neighbours, dim=1).indices.sort(dim=1).values
        partners[items], counts[items] = strongest.numpy(), rows.gather(1, strongest).numpy()
    return partners, counts


def neighbourhood_ease(gram: sp.csr_matrix, lambdas: Sequence[float], neighbours: int,
                       items_per_block: int = 256) -> list[sp.csr_matrix]:
    r""":math:`B` for each penalty of ``lambdas``, column :math:`j` fitted on :math:`j`'s
    ``neighbours`` strongest partners :math:`N_j` (:func:`strongest_partners`):
    :math:`B_{N_j j} = (G_{N_j N_j} + \lambda I)^{-1} G_{N_j j}`, zero elsewhere, as CSR
    matrices (source item x target item).

    Reading :math:`G_{N_j N_j}` out of the sparse Gram matrix is the expensive step, so every
    penalty is solved on one reading. With ``neighbours`` >= items - 1 it is EASE exactly
    (:func:`~kgrec.engine.models.ease.ease_from_gram`)."""
    n_items = gram.shape[0]
    k = min(neighbours, n_items - 1)
    if k <= 0:
        return [sp.csr_matrix((n_items, n_items), dtype=np.float32) for _ in lambdas]
    partners, counts = strongest_partners(gram, k)
    sparse_kernels.use_threads(torch.get_num_threads())
    system = np.empty((items_per_block, k, k), np.float32)
    eye = torch.eye(k)
    solved = [np.empty((n_items, k), np.float32) for _ in lambdas]
    for start in range(0, n_items, items_per_block):
        items = slice(start, min(start + items_per_block, n_items))
        block = system[:items.stop - start]
        sparse_kernels.partner_systems(gram.indptr, gram.indices, gram.data, partners[items], block)
        target = torch.from_numpy(counts[items])[..., None]
        for weights, lambda_reg in zip(solved, lambdas):
            factor = torch.linalg.cholesky(torch.from_numpy(block) + lambda_reg * eye)
            weights[items] = torch.cholesky_solve(target, factor).squeeze(-1).numpy()
    targets = np.repeat(np.arange(n_items), k)
    return [sp.csr_matrix((weights.ravel(), (partners.ravel(), targets)), shape=(n_items, n_items))
            for weights in solved]


class ItemWeights:
    r""":math:`B`, dense (a tensor on the model's device) or sparse (a scipy CSR matrix on the
    CPU), behind the few reads the model makes of it: products with weighted histories, entries
    at pairs of items, and a few whole-matrix operations. The dense form serves exact EASE on
    catalogues up to ten thousands of items; the sparse one the neighbourhood solve beyond."""

    def __init__(self, matrix: torch.Tensor | sp.csr_matrix):
        self.matrix = matrix
        self.sparse = sp.issparse(matrix)
        self._by_column: sp.csr_matrix | None = None  # B transposed, made by the first pairs()

    @property
    def n_items(self) -> int:
        return self.matrix.shape[0]

    def product(self, rows: torch.Tensor, items: torch.Tensor, values: torch.Tensor, n_rows: int) -> torch.Tensor:
        """(n_rows x items), dense on ``values``' device: :math:`W B` for the sparse (n_rows x
        items) matrix :math:`W` with ``values`` at (``rows``, ``items``)."""
        if self.sparse:
            weighted = sp.csr_matrix((values.cpu().numpy(), (rows.cpu().numpy(), items.cpu().numpy())),
                                     shape=(n_rows, self.n_items))
            scores = np.zeros((n_rows, self.n_items), np.float32)
            sparse_kernels.use_threads(torch.get_num_threads())
            sparse_kernels.rows_times_sparse(weighted.indptr, weighted.indices, weighted.data, self.matrix.indptr,
                                             self.matrix.indices, self.matrix.data, scores)
            return torch.from_numpy(scores).to(values.device)
        weighted = torch.sparse_coo_tensor(torch.stack([rows, items]), values, (n_rows, self.n_items),
                                           check_invariants=False)
        return torch.sparse.mm(weighted, self.matrix)

    def block(self, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """(len(rows) x len(columns)): :math:`B` at every row of ``rows`` and column of ``columns``."""
        if self.sparse:
            every = self.pairs(np.repeat(rows.cpu().numpy(), len(columns)), np.tile(columns.cpu().numpy(), len(rows)))
            return torch.from_numpy(every.astype(np.float32).reshape(len(rows), len(columns))).to(rows.device)
        return self.matrix[rows[:, None], columns[None, :]]

    def pairs(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """:math:`B_{r_k c_k}` for each pair of ``rows`` and ``columns`` (float64)."""
        if self.sparse:
            # searched in the target's column: at most ``neighbours`` long, where a popular
            # item's row reaches most of the catalogue
            if self._by_column is None:
                self._by_column = self.matrix.T.tocsr()
                self._by_column.sort_indices()
            values = np.empty(len(rows), np.float32)
            sparse_kernels.use_threads(torch.get_num_threads())
            sparse_kernels.pair_values(self._by_column.indptr, self._by_column.indices, self._by_column.data,
                                       np.asarray(columns, np.int64), np.asarray(rows, np.int64), values)
            return values.astype(np.float64)
        device = self.matrix.device
        return self.matrix[torch.from_numpy(rows).to(device), torch.from_numpy(columns).to(device)].double().cpu().numpy()

    def matmul(self, dense: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """:math:`B X` (or :math:`B^\\top X`) for a dense (items x q) ``dense``, on its device."""
        matrix = self.matrix.T if transpose else self.matrix
        if self.sparse:
            return torch.from_numpy(np.asarray(matrix @ dense.cpu().numpy(), np.float32)).to(dense.device)
        return matrix @ dense

    def padded(self, new: int) -> "ItemWeights":
        """The weights of a catalogue grown by ``new`` items that have no weights yet."""
        if self.sparse:
            matrix = self.matrix.copy()
            matrix.resize((self.n_items + new, self.n_items + new))
            return ItemWeights(matrix)
        return ItemWeights(torch.nn.functional.pad(self.matrix, (0, new, 0, new)))

    def to_dense(self) -> torch.Tensor:
        """The whole matrix as a dense tensor (small catalogues: tests and comparisons)."""
        return torch.from_numpy(self.matrix.toarray()) if self.sparse else self.matrix

    def state(self) -> torch.Tensor | dict[str, torch.Tensor]:
        """What a checkpoint keeps: the dense tensor, or the CSR arrays (their size is the non-zeros')."""
        if not self.sparse:
            return self.matrix
        return {"indptr": torch.from_numpy(self.matrix.indptr), "indices": torch.from_numpy(self.matrix.indices),
                "data": torch.from_numpy(self.matrix.data), "n_items": self.n_items}

    @classmethod
    def from_state(cls, state: torch.Tensor | dict) -> "ItemWeights":
        if isinstance(state, torch.Tensor):
            return cls(state)
        n_items = int(state["n_items"])
        return cls(sp.csr_matrix((state["data"].numpy(), state["indices"].numpy(), state["indptr"].numpy()),
                                 shape=(n_items, n_items)))
