"""Training: BPR mini-batches, per-epoch progress, early stopping on validation NDCG@20, checkpoints.

Two trainable models share the loop through a small task interface (``loss`` on a batch of
triples, ``freeze`` into a scorer): the attention model (:class:`KGATTask`, sampled
neighbourhoods, memory bounded by the batch) and PyG's LightGCN (:class:`LightGCNTask`, the
accuracy baseline; full-graph propagation, it has no attention to give).

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
import scipy.sparse as sp
import torch
from torch_geometric.nn.models import LightGCN

from kgrec.engine.graph import INTERACTION_KEY, FlatGraph, GraphColumns, flatten
from kgrec.engine.models.kgat import KGAT, FrozenKGAT
from kgrec.engine.sampling import NeighborSampler, TripleSampler
from kgrec.graph_schema import ITEM, USER

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in checkpoints and on the ``:Model`` node)."""

    model: str = "kgat"
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

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


class Scorer(Protocol):
    def score(self, users: np.ndarray, history: sp.csr_matrix) -> torch.Tensor:
        """(len(users) x items) scores; ``history`` is the users x items matrix the model may use."""


class KGATScorer:
    """Scores with a :class:`FrozenKGAT`: users are recomputed from their ``history`` rows."""

    def __init__(self, frozen: FrozenKGAT):
        self.frozen = frozen

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> torch.Tensor:
        rows = history[users]
        return self.frozen.score_matrix(users, rows.indptr, rows.indices).cpu()


class KGATTask:
    """The attention model on a training graph: sampled subgraph per batch, BPR loss."""

    def __init__(self, columns: GraphColumns, config: TrainConfig):
        self.columns, self.config = columns, config
        self.graph: FlatGraph = flatten(columns)
        self.device = config.resolved_device()
        self.interacted = 2 * self.graph.edge_key.index(INTERACTION_KEY)
        self.user_offset = self.graph.offsets[USER]
        self.item_offset = self.graph.offsets[ITEM]
        users = range(self.user_offset, self.user_offset + len(columns.node_ids[USER]))
        self.model = KGAT(self.graph.num_nodes, self.graph.num_relations, self.interacted, users, config.dim,
                          config.layers).to(self.device)
        self.sampler = NeighborSampler(self.graph, tuple(config.fanouts[:config.layers]), config.seed)
        self.degree = self.graph.ptr[1:] - self.graph.ptr[:-1]

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        seeds = torch.cat([users + self.user_offset, pos + self.item_offset, neg + self.item_offset])
        sub = self.sampler.sample(seeds)
        n_id, edge_index = sub.n_id.to(self.device), sub.edge_index.to(self.device)
        edge_type = sub.edge_type.to(self.device)
        rep, _ = self.model(n_id, edge_index, edge_type, self.degree[sub.n_id].to(self.device),
                            sub.num_sampled_nodes, sub.num_sampled_edges)
        seeds_local = sub.seed_local.to(self.device)
        u, p, n = rep[seeds_local].split(len(users))
        initial = self.model.initial(n_id[seeds_local])
        return self.model.recommendation_loss(u, p, n, initial, self.config.lambda_reg)

    def freeze(self, graph: FlatGraph | None = None) -> KGATScorer:
        """Propagate over ``graph`` (default: the training graph) and cache the item side."""
        graph = graph or self.graph
        layers, _ = self.model.propagate_all(_to(graph, self.device))
        return KGATScorer(FrozenKGAT(self.model, layers, self.user_offset, self.item_offset,
                                     len(self.columns.node_ids[ITEM])))


class LightGCNScorer:
    def __init__(self, users: torch.Tensor, items: torch.Tensor):
        self.users, self.items = users, items

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> torch.Tensor:
        return (self.users[torch.from_numpy(users)] @ self.items.T).cpu()


class LightGCNTask:
    """PyG's LightGCN on the user-item graph (users first, then items), full propagation per batch."""

    def __init__(self, columns: GraphColumns, config: TrainConfig):
        self.config = config
        self.device = config.resolved_device()
        self.num_users, self.num_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
        users, items = columns.edges[INTERACTION_KEY]
        u, i = torch.from_numpy(users), torch.from_numpy(items) + self.num_users
        self.edge_index = torch.stack([torch.cat([u, i]), torch.cat([i, u])]).to(self.device)
        self.model = LightGCN(self.num_users + self.num_items, config.dim, config.layers).to(self.device)

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        emb = self.model.get_embedding(self.edge_index)
        users, pos, neg = users.to(self.device), pos.to(self.device) + self.num_users, neg.to(self.device) + self.num_users
        pos_rank = (emb[users] * emb[pos]).sum(-1)
        neg_rank = (emb[users] * emb[neg]).sum(-1)
        nodes = torch.cat([users, pos, neg])
        return self.model.recommendation_loss(pos_rank, neg_rank, node_id=nodes, lambda_reg=self.config.lambda_reg)

    @torch.no_grad()
    def freeze(self) -> LightGCNScorer:
        emb = self.model.get_embedding(self.edge_index)
        return LightGCNScorer(emb[:self.num_users], emb[self.num_users:])


TASKS: dict[str, Callable[[GraphColumns, TrainConfig], KGATTask | LightGCNTask]] = {
    "kgat": KGATTask, "lightgcn": LightGCNTask}


@dataclass
class TrainResult:
    best_epoch: int
    best_score: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)


def _to(graph: FlatGraph, device: torch.device) -> FlatGraph:
    if graph.edge_index.device == device:
        return graph
    return FlatGraph(graph.offsets, graph.num_nodes, graph.edge_index.to(device), graph.edge_type.to(device),
                     graph.edge_key, graph.origin, graph.ptr)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def fit(task: KGATTask | LightGCNTask, columns: GraphColumns, validate: Callable[[Scorer], float],
        config: TrainConfig, checkpoint_dir: Path | None = None, resume: bool = False) -> TrainResult:
    """Train ``task`` on ``columns``' interactions, stopping when ``validate`` (NDCG@20 on the
    validation split) has not improved for ``config.patience`` epochs; the best weights are
    restored at the end.

    Args:
        task: the model and how to compute its loss.
        columns: the training graph (its interactions are the BPR positives).
        validate: score of a frozen model, higher is better.
        config: hyper-parameters.
        checkpoint_dir: where ``last.pt``/``best.pt`` go (none: no checkpoints).
        resume: continue from ``checkpoint_dir/last.pt`` when it exists.
    """
    users, items = columns.edges[INTERACTION_KEY]
    triples = TripleSampler(users, items, len(columns.node_ids[ITEM]), config.batch_size, config.seed)
    optimizer = torch.optim.Adam(task.model.parameters(), lr=config.lr)
    state = {"epoch": 0, "best_score": -1.0, "best_epoch": 0, "history": [], "best_model": None}
    fingerprint = columns.fingerprint()
    last = checkpoint_dir / "last.pt" if checkpoint_dir else None
    if resume and last is not None and last.exists():
        saved = torch.load(last, weights_only=False)
        if saved["fingerprint"] != fingerprint:
            raise ValueError(f"checkpoint {last} was made on another graph (fingerprint {saved['fingerprint']} "
                             f"!= {fingerprint}); start without --resume or use another --checkpoint-dir")
        task.model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        triples.rng.bit_generator.state = saved["triples_rng"]
        if isinstance(task, KGATTask):
            task.sampler.generator.set_state(saved["sampler_rng"])
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
        score = validate(task.freeze())
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
                     "sampler_rng": task.sampler.generator.get_state() if isinstance(task, KGATTask) else None,
                     "fingerprint": fingerprint, "config": asdict(config)}
            torch.save(saved, checkpoint_dir / "last.tmp")
            (checkpoint_dir / "last.tmp").replace(last)
    if state["best_model"] is not None:
        task.model.load_state_dict(state["best_model"])
    return TrainResult(state["best_epoch"], state["best_score"], state["epoch"], state["history"])
