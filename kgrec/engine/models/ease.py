"""EASE baseline (Steck, WWW 2019): a closed-form item-item linear autoencoder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.histories import Histories
from kgrec.engine.models.base import FitData, Recommender, closed_form_fit


@dataclass
class EASEConfig:
    """EASE's options.

    Attributes:
        lambdas: the L2 penalties tried on the validation split.
        default_lambda: the penalty without a validation split.
    """

    lambdas: tuple[float, ...] = (20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
    default_lambda: float = 200.0


def gram_matrix(train: sp.csr_matrix, device: torch.device | str = "cpu", users_per_block: int = 4096) -> torch.Tensor:
    r"""The dense item-item Gram matrix :math:`G = X^\top X` of a binary user x item matrix, in float32.

    Accumulated block of users by block of users into the dense result: the sparse product of the
    whole matrix would hold every co-occurring pair at once (at a million interactions, most of
    the items x items pairs, as int32 indices and values on top of the dense copy), while a block's
    product is small. The counts are integers, exact in float32 up to 2^24.
    """
    n_items = train.shape[1]
    gram = np.zeros((n_items, n_items), np.float32)
    for start in range(0, train.shape[0], users_per_block):
        block = train[start:start + users_per_block]
        pairs = (block.T @ block).tocoo()
        gram[pairs.row, pairs.col] += pairs.data
    return torch.from_numpy(gram).to(device)


def ease_from_gram(gram: torch.Tensor, lambda_reg: float) -> torch.Tensor:
    r"""EASE's item-item weights :math:`B = I - P\,\mathrm{diag}(1/\mathrm{diag}(P))`,
    :math:`P = (G + \lambda I)^{-1}`, zero diagonal, from a Gram matrix ``gram`` (left unchanged),
    on ``gram``'s device.

    :math:`G + \lambda I` is symmetric positive definite, so :math:`P` comes from a Cholesky
    factorisation in float32: several times faster than a general float64 inverse, and the
    :math:`\lambda` on the diagonal keeps it well conditioned. One eigendecomposition of
    :math:`G` would give :math:`P` for every :math:`\lambda` of a grid, but it costs far more
    than the few factorisations a grid takes, and is less exact in float32
    (``bench/bench_train.py --factorisations``). :math:`P` is exactly symmetric and
    column-major, so its transpose is the row-major (contiguous) :math:`P` and :math:`B` is
    scaled in place there: no third items x items buffer, and a contiguous :math:`B`, which
    sparse x dense products read several times faster than a strided one.
    """
    shifted = gram.clone()
    shifted.diagonal().add_(lambda_reg)
    factor = torch.linalg.cholesky(shifted)
    del shifted
    p = torch.cholesky_inverse(factor)
    del factor
    weights = p.mT if p.mT.is_contiguous() else p.contiguous()
    weights.div_(-weights.diagonal().clone())
    weights.fill_diagonal_(0.0)
    return weights


def ease_weights(train: sp.csr_matrix, lambda_reg: float, device: torch.device | str = "cpu") -> torch.Tensor:
    r"""EASE's item-item weights (:func:`ease_from_gram`) of a binary user x item matrix."""
    return ease_from_gram(gram_matrix(train, device), lambda_reg)


class EASE(Recommender):
    r"""Embarrassingly Shallow Autoencoder: :math:`\hat y(u, \cdot) = x_u B` with the weights of
    :func:`ease_weights`, the least-squares item-item matrix that may not predict an item from
    itself. Dense in items x items: meant for catalogues up to tens of thousands.

    Fitting picks :math:`\lambda` from :attr:`EASEConfig.lambdas` on the validation split, then
    refits on train + validation.
    """

    name = "ease"
    options_class = EASEConfig
    seeded = False

    def fit(self, data: FitData) -> "EASE":
        device = self.config.resolved_device()
        gram: list = [None, None]  # the matrix the Gram matrix was built from, and it: one per matrix, not per penalty

        def fit_on(train, lambda_reg) -> None:
            if gram[0] is not train:
                gram[:] = [train, gram_matrix(train, device)]
            self.weights = None
            self.weights = ease_from_gram(gram[1], lambda_reg).cpu()  # scored on the CPU, with scipy

        self.params = {"lambda": closed_form_fit(data, self.options.lambdas, self.options.default_lambda, fit_on, self)}
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.asarray(histories.binary() @ self.weights.numpy(), dtype=np.float32))

    def contributions(self, histories: Histories, targets: np.ndarray) -> np.ndarray:
        return self.weights.numpy()[histories.items[:, None], np.asarray(targets)[histories.row_of()]]
