"""The KGAT-style embedding recommender (kgrec's first published model) with users defined by
their interactions; kept as a comparison in ``kgrec eval --methods kgat``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from kgrec.engine.data.graph import INTERACTION_KEY, EdgeKey, FlatGraph, GraphColumns, flatten
from kgrec.engine.data.histories import Histories
from kgrec.engine.data.sampling import NeighborSampler
from kgrec.engine.models.attention_conv import KnowledgeAttentionConv
from kgrec.engine.models.base import FitData, Recommender
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import fit
from kgrec.graph_schema import ITEM, USER


class KGAT(torch.nn.Module):
    r"""KGAT-style attention (Wang et al., KDD 2019) over the whole knowledge graph, with users
    defined by their interactions.

    Every node except users (items, categories, people, tags, ...) has a learned embedding
    :math:`e^{(0)}`; users start from :math:`e^{(0)}_u = 0`. :math:`L` layers of
    :class:`KnowledgeAttentionConv` propagate over all relations and their inverses, and the
    representation is the mean of the layers (as in LightGCN):

    .. math::
        e^{(l)}_h = \sqrt{d_h} \sum_{(r,t) \in \mathcal{N}(h)} \alpha^{(l)}_{hrt}\, e^{(l-1)}_t, \qquad
        e^{*} = \frac{1}{L+1} \sum_{l=0}^{L} e^{(l)}, \qquad \hat y(u, i) = e^{*\top}_u e^{*}_i

    trained with BPR, :math:`-\log \sigma(\hat y(u,i) - \hat y(u,j)) + \lambda \lVert e^{(0)} \rVert^2`
    for an observed item :math:`i` and a sampled one :math:`j`.

    A user is its interactions: its layers :math:`1..L` depend only on them and on the frozen
    item layers, so :meth:`users_from_history` recomputes the whole user for any history — the
    deletion and sufficiency tests of docs/design.md score exact counterfactuals, and a user unknown
    to the model is scored like any other (KGAT's free user embedding is left out).

    Args:
        num_nodes: nodes of the flat graph.
        num_relations: relation ids of the flat graph (relations and inverses).
        interacted: relation id of the item -> user message (``INTERACTED``).
        users: flat ids of the user nodes (their embedding rows stay unused).
        dim: embedding size.
        layers: number of propagation layers.
    """

    def __init__(self, num_nodes: int, num_relations: int, interacted: int, users: range, dim: int = 64,
                 layers: int = 3):
        super().__init__()
        self.interacted = interacted
        self.embedding = torch.nn.Embedding(num_nodes, dim)
        embedded = torch.ones(num_nodes, 1)
        embedded[users.start:users.stop] = 0.0
        self.register_buffer("embedded", embedded, persistent=False)
        self.convs = torch.nn.ModuleList(KnowledgeAttentionConv(dim, num_relations) for _ in range(layers))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.embedding.weight, std=0.1)
        for conv in self.convs:
            conv.reset_parameters()

    def initial(self, n_id: Tensor) -> Tensor:
        """:math:`e^{(0)}` of nodes (zero for users)."""
        return self.embedding(n_id) * self.embedded[n_id]

    def forward(self, n_id: Tensor, edge_index: Tensor, edge_type: Tensor, degree: Tensor,
                num_sampled_nodes: list[int] | None = None,
                num_sampled_edges: list[int] | None = None) -> tuple[Tensor, list[Tensor]]:
        """Representations :math:`e^*` of the subgraph's nodes and each layer's attention.

        Args:
            n_id: flat ids of the subgraph's nodes.
            edge_index: message edges in subgraph-local indices.
            edge_type: relation id per edge.
            degree: each node's incoming edges in the whole graph (not only the sampled ones).
            num_sampled_nodes, num_sampled_edges: for a sampled subgraph in hop order, its nodes
                per hop (seeds first) and edges per hop (:class:`~kgrec.engine.data.sampling.Subgraph`).
                Each layer then runs only on the hops that can still reach the seeds (as PyG's
                ``trim_to_layer``) and only the seeds' rows are returned: the same values without
                the work for the rest.
                A layer's attention then covers the edges it ran on.
        """
        x = self.initial(n_id)
        total, alphas = x, []
        for layer, conv in enumerate(self.convs):
            if num_sampled_edges is not None:
                # layer l's outputs reach the seeds from at most L-1-l hops away: it needs the
                # edges sampled up to hop L-l and the nodes they join, no more
                hops = min(len(num_sampled_edges), len(self.convs) - layer)
                n, e = sum(num_sampled_nodes[:hops + 1]), sum(num_sampled_edges[:hops])
                x, total, degree = x[:n], total[:n], degree[:n]
                edge_index, edge_type = edge_index[:, :e], edge_type[:e]
            x, alpha = conv(x, edge_index, edge_type, degree)
            total = total + x
            alphas.append(alpha)
        if num_sampled_nodes is not None:
            total = total[:num_sampled_nodes[0]]
        return total / (len(self.convs) + 1), alphas

    def recommendation_loss(self, user: Tensor, pos: Tensor, neg: Tensor, initial: Tensor,
                            lambda_reg: float = 1e-4) -> Tensor:
        """BPR on representations of (user, observed item, sampled item) plus L2 on ``initial``."""
        margin = (user * pos).sum(-1) - (user * neg).sum(-1)
        return -F.logsigmoid(margin).mean() + lambda_reg * initial.pow(2).sum(-1).mean()

    @torch.no_grad()
    def propagate_all(self, graph: FlatGraph, max_edges: int = 1_000_000) -> tuple[list[Tensor], Tensor]:
        """Every node's layer outputs on the whole graph, and each edge's attention averaged over
        layers (a mean of distributions, so it still sums to 1 per destination node).

        Layer by layer, in chunks of destination nodes holding at most ``max_edges`` incoming
        edges, so memory is bounded by the chunk rather than by the graph; the softmax stays
        exact because a chunk holds all incoming edges of its nodes.
        """
        was_training = self.training
        self.eval()
        x = self.embedding.weight.detach() * self.embedded
        outputs, attention = [x], torch.zeros(graph.edge_index.size(1))
        bounds = _chunks(graph.ptr, max_edges)
        degree = graph.ptr[1:] - graph.ptr[:-1]
        for conv in self.convs:
            out = torch.empty_like(x)
            for first, last in bounds:
                lo, hi = int(graph.ptr[first]), int(graph.ptr[last])
                chunk_out, alpha = conv(x, graph.edge_index[:, lo:hi], graph.edge_type[lo:hi], degree)
                out[first:last] = chunk_out[first:last]
                attention[lo:hi] += alpha.cpu()
            x = out
            outputs.append(x)
        self.train(was_training)
        return outputs, attention / len(self.convs)

    @torch.no_grad()
    def users_from_history(self, layers: list[Tensor], indptr: np.ndarray, items: np.ndarray,
                           item_offset: int) -> Tensor:
        """:math:`e^*` of users given only their interactions (CSR ``indptr``/``items``, item
        indices), computed with frozen weights against the frozen item layer outputs.

        This is the same computation the full propagation does for a user node (a user's only
        incoming edges are its interactions), so for the training history it reproduces the
        trained representation; for an edited history it gives the counterfactual one.

        Args:
            layers: :meth:`propagate_all` outputs.
            indptr, items: the users' interactions as CSR (row b = user b of the batch).
            item_offset: flat index of item 0.
        """
        was_training = self.training
        self.eval()
        n_users = len(indptr) - 1
        unique, local = np.unique(items, return_inverse=True)
        rows = torch.from_numpy(np.repeat(np.arange(n_users), np.diff(indptr)))
        edge_index = torch.stack([torch.from_numpy(local.astype(np.int64)) + n_users, rows])
        edge_type = torch.full((edge_index.size(1),), self.interacted, dtype=torch.long)
        item_flat = torch.from_numpy(unique.astype(np.int64)) + item_offset
        # a user's degree is its history's length; the items' outputs are not used, so theirs is moot
        degree = torch.cat([torch.from_numpy(np.diff(indptr)), torch.ones(len(unique), dtype=torch.long)])
        x_user = layers[0].new_zeros(n_users, layers[0].size(1))
        total = x_user
        for conv, previous in zip(self.convs, layers[:-1]):
            x = torch.cat([x_user, previous[item_flat]])
            x_user = conv(x, edge_index, edge_type, degree.to(x.device))[0][:n_users]
            total = total + x_user
        self.train(was_training)
        return total / len(layers)


def _chunks(ptr: Tensor, max_edges: int) -> list[tuple[int, int]]:
    """Split destination nodes into consecutive ranges holding at most ``max_edges`` edges each
    (a single node with more edges gets a range of its own)."""
    bounds, first, n = [], 0, len(ptr) - 1
    ptr_np = ptr.cpu().numpy()
    while first < n:
        last = int(np.searchsorted(ptr_np, ptr_np[first] + max_edges, side="right")) - 1
        last = min(max(last, first + 1), n)
        bounds.append((first, last))
        first = last
    return bounds


@dataclass
class FrozenKGAT:
    """A trained :class:`KGAT` ready to score: item representations cached, users computed from
    whatever interactions they are given (:meth:`KGATRecommender.score` scores through it).

    Example (deletion test: how much does dropping item 7 from a history lower item 42?):
        >>> before = frozen.score_matrix(np.array([0, 3]), np.array([3, 7, 9]))[0, 42]  # doctest: +SKIP
        >>> after = frozen.score_matrix(np.array([0, 2]), np.array([3, 9]))[0, 42]  # doctest: +SKIP
    """

    model: KGAT
    layers: list[Tensor]
    user_offset: int
    item_offset: int
    num_items: int

    @cached_property
    def item_representations(self) -> Tensor:
        return torch.stack([x[self.item_offset:self.item_offset + self.num_items] for x in self.layers]).mean(0)

    def user_representations(self, indptr: np.ndarray, items: np.ndarray) -> Tensor:
        """Representations of users given only their interactions, as CSR lists of item indices
        (a user is its interactions: no user id is needed, a user unknown to the model included)."""
        return self.model.users_from_history(self.layers, indptr, items, self.item_offset)

    def score_matrix(self, indptr: np.ndarray, items: np.ndarray) -> Tensor:
        """(users x all items) scores for users given with their interactions as CSR lists, with
        the frozen model: no retraining."""
        return self.user_representations(indptr, items) @ self.item_representations.T


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

    def freeze(self, graph: FlatGraph | None = None) -> FrozenKGAT:
        """Propagate over ``graph`` (default: the training graph) and cache the item side."""
        graph = graph or self.graph
        if graph.edge_index.device != self.device:
            graph = FlatGraph(graph.offsets, graph.num_nodes, graph.edge_index.to(self.device),
                              graph.edge_type.to(self.device), graph.edge_key, graph.origin, graph.ptr)
        layers, _ = self.model.propagate_all(graph)
        return FrozenKGAT(self.model, layers, self.user_offset, self.item_offset, len(self.columns.node_ids[ITEM]))


class KGATRecommender(Recommender):
    """:class:`KGAT` behind the recommender interface: BPR training with early stopping
    (:func:`kgrec.engine.training.train.fit`), users scored from their histories by :class:`FrozenKGAT`."""

    name = "kgat"
    has_attention = True

    def fit(self, data: FitData) -> "KGATRecommender":
        self.task = KGATTask(data.columns, self.config)

        def validate() -> float:
            self.frozen = self.task.freeze()
            return data.validate(self)

        result = fit(self.task, data.columns, validate if data.validate else None, self.config,
                     checkpoint_dir=data.checkpoint_dir, resume=data.resume)
        self.frozen = self.task.freeze()
        self.params = {"best_epoch": result.best_epoch, "val_ndcg@20": result.best_score,
                       "epochs_run": result.epochs_run}
        return self

    def score(self, histories: Histories) -> torch.Tensor:
        return self.frozen.score_matrix(histories.indptr, histories.items).cpu()

    def _propagate_all(self, columns: GraphColumns) -> tuple[FlatGraph, list[Tensor], Tensor]:
        graph = flatten(columns)
        layers, attention = self.task.model.propagate_all(graph)
        return graph, layers, attention

    def attention(self, columns: GraphColumns, histories: Histories) -> dict[EdgeKey, np.ndarray]:
        """Per relationship ``(h)-[r]->(t)``, the attention of the message ``t -> h`` averaged over
        layers: how much ``t`` shaped ``h``, normalised over ``h``'s incoming edges."""
        graph, _, attention = self._propagate_all(columns)
        per_key = {}
        forward = graph.edge_type % 2 == 0
        for rel, key in enumerate(graph.edge_key):
            mine = forward & (graph.edge_type == 2 * rel)
            values = np.zeros(len(columns.edges[key][0]), np.float32)
            values[graph.origin[mine].numpy()] = attention[mine].numpy()
            per_key[key] = values
        return per_key

    def embeddings(self, columns: GraphColumns, histories: Histories) -> dict[str, np.ndarray]:
        graph, layers, _ = self._propagate_all(columns)
        final = torch.stack(layers).mean(0).cpu()
        return {label: final[graph.offsets[label]:graph.offsets[label] + len(ids)].numpy()
                for label, ids in columns.node_ids.items()}

    def state(self) -> dict:
        return {"model": self.task.model.state_dict(), "params": self.params}

    def load_state(self, state: dict, columns: GraphColumns) -> "KGATRecommender":
        self.task = KGATTask(columns, self.config)
        self.task.model.load_state_dict(state["model"])
        self.task.model.eval()
        self.frozen = self.task.freeze()
        self.params = state["params"]
        return self
