"""Most-popular baseline."""

from __future__ import annotations

import numpy as np
import torch

from kgrec.engine.data.histories import Histories
from kgrec.engine.data.split import interaction_matrix
from kgrec.engine.models.base import FitData, Recommender


class Popularity(Recommender):
    r"""Scores every item by its number of interactions, the same for every user:
    :math:`\hat y(u, i) = |\{v : (v, i) \in \text{train}\}|` (train + validation once fitted)."""

    name = "popularity"
    seeded = False

    def fit(self, data: FitData) -> "Popularity":
        self.counts = np.asarray(interaction_matrix(data.refit or data.columns).sum(axis=0)).ravel().astype(np.float32)
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return torch.from_numpy(np.broadcast_to(self.counts, (len(histories), len(self.counts))).copy())
