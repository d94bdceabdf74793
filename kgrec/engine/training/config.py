"""Hyper-parameters of one training run: one dataclass, read by every model, the CLI and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: the model ``kgrec train`` publishes and ``kgrec eval`` puts first
PUBLISHED_MODEL = "attention"


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in checkpoints and on the ``:Model`` node).

    Fields a model does not use are ignored by it; each model documents the ones it reads.
    """

    model: str = PUBLISHED_MODEL
    dim: int = 64
    layers: int = 3
    epochs: int = 40
    batch_size: int = 2048
    lr: float = 5e-3
    lambda_reg: float = 1e-4
    fanouts: tuple[int, ...] = (30, 10, 5)
    patience: int = 5
    seed: int = 0
    device: str = "auto"

    def resolved_device(self) -> "torch.device":
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)
