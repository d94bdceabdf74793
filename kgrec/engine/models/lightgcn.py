"""LightGCN (He et al., SIGIR 2020) through PyG, the embedding baseline."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns
from kgrec.engine.data.histories import Histories
from kgrec.engine.models.base import FitData, Recommender
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import GradientConfig, fit, seed_everything
from kgrec.graph_schema import ITEM, USER


@dataclass
class LightGCNConfig(GradientConfig):
    """LightGCN's options (:class:`GradientConfig`); the defaults that differ from it (learning
    rate, layers, batch size) were LightGCN's best on the 2,000-user synthetic sample's
    validation split."""

    layers: int = 2
    batch_size: int = 1024
    lr: float = 1e-2


class LightGCNTask:
    """PyG's LightGCN on the user-item graph (users first, then items), full propagation per batch."""

    def __init__(self, columns: GraphColumns, options: LightGCNConfig, config: TrainConfig):
        self.options = options
        self.device = config.resolved_device()
        self.num_users, self.num_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
        users, items = columns.edges[INTERACTION_KEY]
        u, i = torch.from_numpy(users), torch.from_numpy(items) + self.num_users
        self.edge_index = torch.stack([torch.cat([u, i]), torch.cat([i, u])]).to(self.device)
        self.model = PyGLightGCN(self.num_users + self.num_items, options.dim, options.layers).to(self.device)

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        emb = self.model.get_embedding(self.edge_index)
        users, pos, neg = users.to(self.device), pos.to(self.device) + self.num_users, neg.to(self.device) + self.num_users
        pos_rank = (emb[users] * emb[pos]).sum(-1)
        neg_rank = (emb[users] * emb[neg]).sum(-1)
        nodes = torch.cat([users, pos, neg])
        return self.model.recommendation_loss(pos_rank, neg_rank, node_id=nodes, lambda_reg=self.options.lambda_reg)

    @torch.no_grad()
    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.model.get_embedding(self.edge_index)
        return emb[:self.num_users].cpu(), emb[self.num_users:].cpu()


class LightGCN(Recommender):
    """LightGCN with BPR and early stopping. Transductive: a user is its trained vector, so a
    user the training graph did not have scores zero everywhere.

    Fitting trains on train, early-stopped on validation NDCG@20, then (as every other model
    refits on train + validation) trains a fresh model on ``data.refit`` for the best epoch count,
    without validation, from the same seed: the vectors scored are the refitted ones."""

    name = "lightgcn"
    options_class = LightGCNConfig

    def fit(self, data: FitData) -> "LightGCN":
        task = LightGCNTask(data.columns, self.options, self.config)

        def validate() -> float:
            self.users, self.items = task.embeddings()
            return data.validate(self)

        result = fit(task, data.columns, validate if data.validate else None, self.options, self.config.seed)
        self.params = {"best_epoch": result.best_epoch, "val_ndcg@20": result.best_score}
        if data.validate and data.refit is not None and result.best_epoch > 0:
            seed_everything(self.config.seed)
            task = LightGCNTask(data.refit, self.options, self.config)
            fit(task, data.refit, None, replace(self.options, epochs=result.best_epoch), self.config.seed)
            self.params["refit_epochs"] = result.best_epoch
        self.users, self.items = task.embeddings()
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        known = histories.users >= 0
        scores = torch.zeros(len(histories), self.items.shape[0])
        scores[torch.from_numpy(known)] = self.users[torch.from_numpy(histories.users[known])] @ self.items.T
        return scores
