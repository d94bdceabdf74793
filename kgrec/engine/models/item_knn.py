"""Item-based k-nearest-neighbours baseline (cosine)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.histories import Histories
from kgrec.engine.models.base import FitData, Recommender, closed_form_fit


@dataclass
class ItemKNNConfig:
    """Item-kNN's options.

    Attributes:
        sizes: the neighbourhood sizes ``k`` tried on the validation split.
        default_size: ``k`` without a validation split.
    """

    sizes: tuple[int, ...] = (50, 100, 200, 400)
    default_size: int = 100


def cosine_neighbours(train: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Item-item cosine similarity of the binary columns of ``train``, zero diagonal, keeping
    each item's ``k`` most similar items (which also bounds memory to ``items x k``)."""
    x = train.tocsc().astype(np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    normalized = x @ sp.diags(1.0 / np.maximum(norms, 1e-12))
    sim = (normalized.T @ normalized).toarray()
    np.fill_diagonal(sim, 0.0)
    if k < sim.shape[0]:
        cut = np.argpartition(-sim, k, axis=0)[k:]
        np.put_along_axis(sim, cut, 0.0, axis=0)
    return sp.csr_matrix(sim)


class ItemKNN(Recommender):
    r"""Item-kNN with cosine similarity on the binary interaction matrix :math:`X`:

    .. math::
        s_{ij} = \frac{x_i^\top x_j}{\lVert x_i \rVert \lVert x_j \rVert}, \quad s_{ii} = 0, \qquad
        \hat y(u, j) = \sum_{i \in \mathcal{N}_k(j)} x_{ui}\, s_{ij}

    Fitting picks ``k`` from :attr:`ItemKNNConfig.sizes` on the validation split, then refits
    on train + validation.
    """

    name = "item_knn"
    options_class = ItemKNNConfig
    seeded = False

    def fit(self, data: FitData) -> "ItemKNN":
        def fit_on(train, k) -> None:
            self.similarity = cosine_neighbours(train, k)

        self.params = {"k": closed_form_fit(data, self.options.sizes, self.options.default_size, fit_on, self)}
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.asarray((histories.binary() @ self.similarity).todense(), dtype=np.float32))

    def contributions(self, histories: Histories, targets: np.ndarray) -> np.ndarray:
        wanted = np.asarray(targets)[histories.row_of()]
        pairs = self.similarity[np.repeat(histories.items, wanted.shape[1]), wanted.ravel()]
        return np.asarray(pairs, np.float32).reshape(wanted.shape)
