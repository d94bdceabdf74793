"""Training by gradient: BPR mini-batches, per-epoch progress, early stopping on validation
NDCG@20, checkpoints.

The embedding models (:mod:`kgrec.engine.models.kgat`, :mod:`kgrec.engine.models.lightgcn`)
share this loop through a small task interface: ``model`` (the ``torch.nn.Module``), ``loss`` on
a batch of triples, and optionally ``sampler`` (whose random state a checkpoint keeps).

The checkpoint (``last.pt``, replaced atomically every epoch) holds the model, the best weights
so far, the optimizer, the samplers' random state and the graph's fingerprint, so
``resume=True`` continues an interrupted run where it stopped, and refuses a different graph.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns
from kgrec.engine.data.sampling import TripleSampler
from kgrec.graph_schema import ITEM

log = logging.getLogger(__name__)


class Task(Protocol):
    """A trainable model: its module and its BPR loss on a batch of (user, item, other item)."""

    model: torch.nn.Module

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor: ...


@dataclass
class GradientConfig:
    """What :func:`fit` and an embedding model read: the options of the models trained by
    gradient (each extends this with its own defaults, and its own extra options).

    Attributes:
        dim: embedding size.
        layers: propagation layers.
        epochs: most epochs.
        batch_size: (user, item, other item) triples per step.
        lr: Adam's learning rate.
        lambda_reg: L2 penalty of the BPR loss.
        patience: epochs without a better validation NDCG@20 before training stops.
    """

    dim: int = 64
    layers: int = 3
    epochs: int = 40
    batch_size: int = 2048
    lr: float = 5e-3
    lambda_reg: float = 1e-4
    patience: int = 5


@dataclass
class TrainResult:
    """How a run went; ``best_score`` is the best validation NDCG@20, None without validation."""

    best_epoch: int
    best_score: float | None
    epochs_run: int
    history: list[dict] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def fit(task: Task, columns: GraphColumns, validate: Callable[[], float] | None,
        options: GradientConfig, seed: int, checkpoint_dir: Path | None = None, resume: bool = False) -> TrainResult:
    """Train ``task`` on ``columns``' interactions, stopping when ``validate`` (NDCG@20 on the
    validation split) has not improved for ``options.patience`` epochs; the best weights are
    restored at the end.

    Args:
        task: the model and how to compute its loss.
        columns: the training graph (its interactions are the BPR positives).
        validate: score of the model's current weights (NDCG@20 on the validation split), higher
            is better; None: no validation split, every epoch counts as an improvement.
        options: epochs, batch size, learning rate, patience.
        seed: of the triples' sampling.
        checkpoint_dir: where ``last.pt``/``best.pt`` go (none: no checkpoints).
        resume: continue from ``checkpoint_dir/last.pt`` when it exists.
    """
    users, items = columns.edges[INTERACTION_KEY]
    triples = TripleSampler(users, items, len(columns.node_ids[ITEM]), options.batch_size, seed)
    optimizer = torch.optim.Adam(task.model.parameters(), lr=options.lr)
    state = {"epoch": 0, "best_score": -1.0, "best_epoch": 0, "history": [], "best_model": None}
    fingerprint = columns.fingerprint()
    sampler = getattr(task, "sampler", None)
    last = checkpoint_dir / "last.pt" if checkpoint_dir else None
    if resume and last is not None and last.exists():
        saved = torch.load(last, weights_only=True)
        if saved["fingerprint"] != fingerprint:
            raise ValueError(f"checkpoint {last} was made on another graph (fingerprint {saved['fingerprint']} "
                             f"!= {fingerprint}); start without --resume or use another --checkpoint-dir")
        task.model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        triples.rng.bit_generator.state = saved["triples_rng"]
        if sampler is not None:
            sampler.generator.set_state(saved["sampler_rng"])
        torch.set_rng_state(saved["torch_rng"])
        state = saved["state"]
        log.info("resumed from %s at epoch %d (best NDCG@20 %.4f)", last, state["epoch"], state["best_score"])

    while state["epoch"] < options.epochs and state["epoch"] - state["best_epoch"] < options.patience:
        started = time.perf_counter()
        task.model.train()
        total, batches = 0.0, 0
        for u, p, n in triples:
            optimizer.zero_grad()
            loss = task.loss(u, p, n)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        task.model.eval()
        score = validate() if validate else None
        state["epoch"] += 1
        seconds = time.perf_counter() - started
        state["history"].append({"epoch": state["epoch"], "loss": total / max(batches, 1),
                                 "val_ndcg@20": score, "seconds": seconds})
        # without validation every epoch counts as an improvement: the last one is kept
        improved = score is None or score > state["best_score"]
        if improved:
            state.update(best_score=score if score is not None else state["best_score"], best_epoch=state["epoch"],
                         best_model={k: v.detach().clone() for k, v in task.model.state_dict().items()})
        validated = f"  val NDCG@20 {score:.4f}{' *' if improved else ''}" if score is not None else ""
        log.info("epoch %d  loss %.4f%s  %.1fs", state["epoch"], total / max(batches, 1), validated, seconds)
        if checkpoint_dir is not None:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
            saved = {"model": task.model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                     "triples_rng": triples.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                     "sampler_rng": sampler.generator.get_state() if sampler is not None else None,
                     "fingerprint": fingerprint, "options": asdict(options), "seed": seed}
            torch.save(saved, checkpoint_dir / "last.tmp")
            (checkpoint_dir / "last.tmp").replace(last)
    if state["best_model"] is not None:
        task.model.load_state_dict(state["best_model"])
    return TrainResult(state["best_epoch"], state["best_score"] if validate else None, state["epoch"], state["history"])
