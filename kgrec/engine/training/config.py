"""The options of one run, whatever the model: which model, the seed, the device.

A model's own hyper-parameters are not here: each model takes a dataclass of its own
(:attr:`Recommender.options_class <kgrec.engine.models.base.Recommender.options_class>`), so that
an option is read by the model that declares it or refused (``kgrec train --set``)."""

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
    """The run's options, stored in checkpoints and, with the model's own, on the ``:Model`` node.

    Attributes:
        model: the registered model to fit (``kgrec train --model``).
        seed: the random seed of fitting (closed-form models do not use one).
        device: ``auto``, ``cpu`` or ``cuda``: where the models compute (:meth:`resolved_device`).
    """

    model: str = PUBLISHED_MODEL
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
