"""Hyper-parameters of one training run: one dataclass, read by every model, the CLI and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgrec.errors import KgrecError

if TYPE_CHECKING:
    import torch

#: the model ``kgrec train`` publishes and ``kgrec eval`` puts first
PUBLISHED_MODEL = "attention"


class DeviceUnavailableError(KgrecError, RuntimeError):
    """``--device cuda`` on a machine where torch sees no CUDA GPU."""


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
        """Where the models' tensors live: ``auto`` is CUDA when torch sees a GPU, else the CPU.

        Raises:
            DeviceUnavailableError: ``cuda`` was asked for and torch sees no GPU (checked here,
                once, rather than as a driver error deep inside the first tensor copy).
        """
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            reason = ("this torch was built without CUDA" if torch.version.cuda is None
                      else f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU")
            raise DeviceUnavailableError(f"--device {self.device}: no CUDA GPU available ({reason}); "
                                         "use --device cpu, or --device auto to take a GPU only when there is one")
        return device
