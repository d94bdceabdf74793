"""Item-based k-nearest-neighbours baseline (cosine)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class ItemKNN:
    r"""Item-kNN with cosine similarity on the binary interaction matrix :math:`X`:

    .. math::
        s_{ij} = \frac{x_i^\top x_j}{\lVert x_i \rVert \lVert x_j \rVert}, \quad s_{ii} = 0, \qquad
        \hat y(u, j) = \sum_{i \in \mathcal{N}_k(j)} x_{ui}\, s_{ij}

    keeping, for every item, only its ``k`` most similar items (the usual pruning, which also
    bounds memory to ``items x k``).

    Args:
        k: neighbours kept per item.
    """

    def __init__(self, k: int = 100):
        self.k = k

    def fit(self, train: sp.csr_matrix) -> "ItemKNN":
        x = train.tocsc().astype(np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        normalized = x @ sp.diags(1.0 / np.maximum(norms, 1e-12))
        sim = (normalized.T @ normalized).toarray()
        np.fill_diagonal(sim, 0.0)
        if self.k < sim.shape[0]:
            cut = np.argpartition(-sim, self.k, axis=0)[self.k:]
            np.put_along_axis(sim, cut, 0.0, axis=0)
        self.similarity = sp.csr_matrix(sim)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """(users x items) scores for the users whose interactions are the rows of ``history``."""
        return np.asarray((history @ self.similarity).todense(), dtype=np.float32)
