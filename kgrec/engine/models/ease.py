"""EASE baseline (Steck, WWW 2019): a closed-form item-item linear autoencoder."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.histories import Histories
from kgrec.engine.models.base import FitData, Recommender, closed_form_fit

#: the L2 penalties tried on the validation split
EASE_LAMBDAS = (20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
#: without a validation split
DEFAULT_LAMBDA = 200.0


def ease_weights(train: sp.csr_matrix, lambda_reg: float) -> torch.Tensor:
    r"""EASE's item-item weights :math:`B = I - P\,\mathrm{diag}(1/\mathrm{diag}(P))`,
    :math:`P = (X^\top X + \lambda I)^{-1}`, zero diagonal.

    The Gram matrix is symmetric positive definite, so :math:`P` comes from a Cholesky
    factorisation in float32: several times faster than a general float64 inverse, and the
    :math:`\lambda` on the diagonal keeps it well conditioned.
    """
    gram = torch.from_numpy((train.T @ train).toarray().astype(np.float32))
    gram.diagonal().add_(lambda_reg)
    p = torch.cholesky_inverse(torch.linalg.cholesky(gram))
    weights = p / (-p.diagonal())
    weights.fill_diagonal_(0.0)
    return weights


class EASE(Recommender):
    r"""Embarrassingly Shallow Autoencoder: :math:`\hat y(u, \cdot) = x_u B` with the weights of
    :func:`ease_weights`, the least-squares item-item matrix that may not predict an item from
    itself. Dense in items x items: meant for catalogues up to tens of thousands.

    Fitting picks :math:`\lambda` from :data:`EASE_LAMBDAS` on the validation split, then refits
    on train + validation.
    """

    name = "ease"
    seeded = False

    def fit(self, data: FitData) -> "EASE":
        def fit_on(train, lambda_reg) -> None:
            self.weights = ease_weights(train, lambda_reg)

        self.params = {"lambda": closed_form_fit(data, EASE_LAMBDAS, DEFAULT_LAMBDA, fit_on, self)}
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.asarray(histories.binary() @ self.weights.numpy(), dtype=np.float32))

    def contributions(self, histories: Histories, row: int, targets: np.ndarray) -> np.ndarray:
        items = histories.items[histories.indptr[row]:histories.indptr[row + 1]]
        return self.weights[np.ix_(items, targets)].numpy() if len(items) else np.zeros((0, len(targets)))
