"""EASE with a recency-weighted history: the time-aware closed-form baseline."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.histories import Histories
from kgrec.engine.models.base import FitData, Recommender, closed_form_fit
from kgrec.engine.models.ease import EASEConfig, ease_from_gram, gram_matrix


@dataclass
class EASERecencyConfig:
    """The options of :class:`EASERecency`.

    Attributes:
        lambdas: the L2 penalties tried on the validation split (EASE's).
        taus: the fading lengths τ (in interactions) tried on the validation split.
        floors: the floors tried on the validation split (0: old interactions fade out entirely).
        default_lambda, default_tau, default_floor: without a validation split.
    """

    lambdas: tuple[float, ...] = field(default_factory=lambda: EASEConfig().lambdas)
    taus: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0)
    floors: tuple[float, ...] = (0.0, 0.01, 0.05, 0.2)
    default_lambda: float = field(default_factory=lambda: EASEConfig().default_lambda)
    default_tau: float = 10.0
    default_floor: float = 0.05

    @property
    def grid(self) -> tuple[tuple[float, float, float], ...]:
        """(λ, τ, floor), λ outermost so that each penalty is factorised once and re-scored for
        every (τ, floor)."""
        return tuple(itertools.product(self.lambdas, self.taus, self.floors))


def recency_weights(recency: np.ndarray, tau: float, floor: float) -> np.ndarray:
    r"""The weight :math:`w = \mathrm{floor} + e^{-r/\tau}` of interactions at positions ``recency``
    from the end of their user's timeline (:math:`r = 0`: the latest), in float32."""
    return (floor + np.exp(-np.asarray(recency, np.float64) / tau)).astype(np.float32)


class EASERecency(Recommender):
    r"""EASE scored from a recency-weighted history: :math:`\hat y(u, j) = \sum_{i \in u} w_{ui}
    B_{ij}` with :math:`w_{ui} = \mathrm{floor} + e^{-r_{ui}/\tau}`, :math:`r_{ui}` the position of
    interaction :math:`i` from the end of :math:`u`'s timeline (0 for the latest; the stored order
    when the log has no timestamps, see :mod:`kgrec.engine.data.histories`), and :math:`B` plain
    EASE's weights (:func:`~kgrec.engine.models.ease.ease_from_gram`) fitted on the binary
    matrix. Only the history is weighted, not the fit.

    Fitting picks :math:`(\lambda, \tau, \mathrm{floor})` from the options' grid on validation
    NDCG@20 (with train as the histories, timed as in train), then refits :math:`B` on train +
    validation (:func:`~kgrec.engine.models.base.closed_form_fit`). A score is exactly the sum of
    its per-interaction contributions :math:`w_{ui} B_{ij}`.
    """

    name = "ease_recency"
    seeded = False
    options_class = EASERecencyConfig

    def fit(self, data: FitData) -> "EASERecency":
        device = self.config.resolved_device()
        gram: list = [None, None]  # the matrix the Gram matrix was built from, and it: one per matrix
        factorised: list = [None, None]  # λ and B: one factorisation per λ, re-scored per (τ, floor)

        def fit_on(train: sp.csr_matrix, option: tuple[float, float, float]) -> None:
            self.lambda_reg, self.tau, self.floor = option
            if gram[0] is not train:
                factorised[:] = [None, None]
                self.weights = None
                gram[:] = [train, gram_matrix(train, device)]
            if factorised[0] != self.lambda_reg:
                factorised[:] = [None, None]
                self.weights = None
                factorised[:] = [self.lambda_reg, ease_from_gram(gram[1], self.lambda_reg).cpu()]
            self.weights = factorised[1]

        defaults = (self.options.default_lambda, self.options.default_tau, self.options.default_floor)
        lambda_reg, tau, floor = closed_form_fit(data, self.options.grid, defaults, fit_on, self)
        self.params = {"lambda": lambda_reg, "tau": tau, "floor": floor}
        return self

    def _weighted(self, histories: Histories) -> sp.csr_matrix:
        return sp.csr_matrix((recency_weights(histories.recency, self.tau, self.floor), histories.items,
                              histories.indptr), shape=(len(histories), histories.num_items))

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self._weighted(histories) @ self.weights.numpy(), dtype=np.float32))

    def contributions(self, histories: Histories, targets: np.ndarray) -> np.ndarray:
        weight = recency_weights(histories.recency, self.tau, self.floor)
        return weight[:, None] * self.weights.numpy()[histories.items[:, None], np.asarray(targets)[histories.row_of()]]
