"""EASE baseline (Steck, WWW 2019): a closed-form item-item linear autoencoder."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class EASE:
    r"""Embarrassingly Shallow Autoencoder.

    .. math::
        P = (X^\top X + \lambda I)^{-1}, \qquad B = I - P \,\mathrm{diag}(1 / \mathrm{diag}(P)),
        \qquad \hat y(u, \cdot) = x_u B

    which is the least-squares item-item weight matrix with a zero diagonal (an item may not
    predict itself). Dense in items x items: meant for catalogues up to tens of thousands.

    Args:
        lambda_reg: the L2 penalty :math:`\lambda`.
    """

    def __init__(self, lambda_reg: float = 200.0):
        self.lambda_reg = lambda_reg

    def fit(self, train: sp.csr_matrix) -> "EASE":
        gram = (train.T @ train).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.lambda_reg
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights = b.astype(np.float32)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """(users x items) scores for the users whose interactions are the rows of ``history``."""
        return np.asarray(history @ self.weights, dtype=np.float32)
