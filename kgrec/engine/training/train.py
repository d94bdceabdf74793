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
from kgrec.engine.training.config import TrainConfig
from kgrec.graph_schema import ITEM

log = logging.getLogger(__name__)


class Task(Protocol):
    """A trainable model: its module and its BPR loss on a batch of (user, item, other item)."""

    model: torch.nn.Module

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor: ...


@dataclass
class TrainResult:
    best_epoch: int
    best_score: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def fit(task: Task, columns: GraphColumns, validate: Callable[[], float] | None,
        config: TrainConfig, checkpoint_dir: Path | None = None, resume: bool = False) -> TrainResult:
    """Train ``task`` on ``columns``' interactions, stopping when ``validate`` (NDCG@20 on the
    validation split) has not improved for ``config.patience`` epochs; the best weights are
    restored at the end.

    Args:
        task: the model and how to compute its loss.
        columns: the training graph (its interactions are the BPR positives).
        validate: score of the model's current weights (NDCG@20 on the validation split), higher
            is better; None: no validation split, every epoch counts as an improvement.
        config: hyper-parameters.
        checkpoint_dir: where ``last.pt``/``best.pt`` go (none: no checkpoints).
        resume: continue from ``checkpoint_dir/last.pt`` when it exists.
    """
    users, items = columns.edges[INTERACTION_KEY]
    triples = TripleSampler(users, items, len(columns.node_ids[ITEM]), config.batch_size, config.seed)
    optimizer = torch.optim.Adam(task.model.parameters(), lr=config.lr)
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

    while state["epoch"] < config.epochs and state["epoch"] - state["best_epoch"] < config.patience:
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
        score = validate() if validate else float(state["epoch"])
        state["epoch"] += 1
        seconds = time.perf_counter() - started
        state["history"].append({"epoch": state["epoch"], "loss": total / max(batches, 1),
                                 "val_ndcg@20": score, "seconds": seconds})
        improved = score > state["best_score"]
        if improved:
            state.update(best_score=score, best_epoch=state["epoch"],
                         best_model={k: v.detach().clone() for k, v in task.model.state_dict().items()})
        log.info("epoch %d  loss %.4f  val NDCG@20 %.4f%s  %.1fs", state["epoch"], total / max(batches, 1), score,
                 " *" if improved else "", seconds)
        if checkpoint_dir is not None:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
            saved = {"model": task.model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                     "triples_rng": triples.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                     "sampler_rng": sampler.generator.get_state() if sampler is not None else None,
                     "fingerprint": fingerprint, "config": asdict(config)}
            torch.save(saved, checkpoint_dir / "last.tmp")
            (checkpoint_dir / "last.tmp").replace(last)
    if state["best_model"] is not None:
        task.model.load_state_dict(state["best_model"])
    return TrainResult(state["best_epoch"], state["best_score"], state["epoch"], state["history"])
