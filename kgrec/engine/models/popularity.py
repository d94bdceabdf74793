"""Most-popular baseline."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Popularity:
    r"""Scores every item by its number of training interactions, the same for every user:
    :math:`\hat y(u, i) = |\{v : (v, i) \in \text{train}\}|`."""

    def fit(self, train: sp.csr_matrix) -> "Popularity":
        self.counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float32)
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """(users x items) scores for the users whose interactions are the rows of ``history``."""
        return np.broadcast_to(self.counts, (history.shape[0], len(self.counts))).copy()
