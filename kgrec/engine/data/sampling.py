"""How we sample: BPR triples and bounded neighbourhoods for mini-batch training.

Why our own neighbour sampler rather than PyG's ``LinkNeighborLoader``: PyG's neighbour
sampling needs the compiled ``pyg-lib`` or ``torch-sparse`` extensions, which have no wheels for
the torch kgrec runs on. The sampler below does the same job (a fixed fan-out of incoming edges
per node and hop, vectorised in torch over a CSR index), so a batch's memory is bounded by the
batch size and fan-outs, not by the size of the graph.

The bound is loose at the sizes we run: the fan-outs multiplied over the hops, times a batch's
seeds, exceed the edges of a graph of a million interactions. So a batch's subgraph is most of
the graph until several million interactions, and the cost of a batch grows with the graph: an
epoch grows with its square in that range (``bench/bench_train.py`` records the subgraph's nodes
and edges per hop).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kgrec.engine.data.graph import FlatGraph


class TripleSampler:
    """Shuffled (user, observed item, sampled item) batches over the training interactions.

    Negatives are uniform over the catalogue; a draw that hits one of the user's training items
    is redrawn (a few rounds, vectorised), so it is almost always a true negative.

    Args:
        users, items: the training interactions (user and item indices).
        num_items: catalogue size.
        batch_size: triples per batch.
        seed: for the shuffle and the negatives.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, num_items: int, batch_size: int, seed: int):
        self.users, self.items = users.astype(np.int64), items.astype(np.int64)
        self.num_items, self.batch_size = num_items, batch_size
        self.known = np.sort(self.users * num_items + self.items)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.users) // self.batch_size)

    def _is_known(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.num_items + items
        pos = np.minimum(np.searchsorted(self.known, keys), len(self.known) - 1)
        return self.known[pos] == keys

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        order = self.rng.permutation(len(self.users))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            users, pos = self.users[rows], self.items[rows]
            neg = self.rng.integers(0, self.num_items, len(rows))
            for _ in range(5):
                clash = self._is_known(users, neg)
                if not clash.any():
                    break
                neg[clash] = self.rng.integers(0, self.num_items, int(clash.sum()))
            yield torch.from_numpy(users), torch.from_numpy(pos), torch.from_numpy(neg)


@dataclass
class Subgraph:
    """A sampled computation graph: ``n_id`` (flat ids), local ``edge_index``/``edge_type``,
    and the local position of every seed given to :meth:`NeighborSampler.sample`.

    Nodes and edges are in hop order (the seeds, then the nodes first reached at hop 1, ...;
    the edges sampled at hop 1, then hop 2, ...), counted per hop in ``num_sampled_nodes``
    (seeds first) and ``num_sampled_edges``, as in PyG's ``NeighborLoader``: a model can then
    leave out, layer by layer, what can no longer reach the seeds
    (:meth:`~kgrec.engine.models.kgat.KGAT.forward`)."""

    n_id: Tensor
    edge_index: Tensor
    edge_type: Tensor
    seed_local: Tensor
    num_sampled_nodes: list[int]
    num_sampled_edges: list[int]


class NeighborSampler:
    """Samples up to ``fanouts[h]`` incoming edges per node at hop ``h`` (all of them when the node
    has fewer), like GraphSAGE / PyG's ``NeighborLoader``; the union is the batch's subgraph.

    Args:
        graph: the training graph (edges sorted by destination).
        fanouts: incoming edges kept per node, one entry per model layer.
        seed: for the sampling.
    """

    def __init__(self, graph: FlatGraph, fanouts: tuple[int, ...], seed: int):
        self.graph, self.fanouts = graph, fanouts
        self.generator = torch.Generator().manual_seed(seed)

    def _incoming(self, nodes: Tensor, fanout: int) -> Tensor:
        ptr = self.graph.ptr
        start, degree = ptr[nodes], ptr[nodes + 1] - ptr[nodes]
        small = degree <= fanout
        lengths = degree[small]
        offsets = torch.repeat_interleave(torch.cumsum(lengths, 0) - lengths, lengths)
        every = torch.repeat_interleave(start[small], lengths) + torch.arange(int(lengths.sum())) - offsets
        big_start = start[~small].repeat_interleave(fanout)
        big_degree = degree[~small].repeat_interleave(fanout)
        draws = (torch.rand(len(big_start), generator=self.generator) * big_degree).long()
        return torch.cat([every, torch.unique(big_start + draws)])

    def sample(self, seeds: Tensor) -> Subgraph:
        nodes, seed_local = torch.unique(seeds, return_inverse=True)
        seen = torch.zeros(self.graph.num_nodes, dtype=torch.bool)
        seen[nodes] = True
        frontier, all_nodes, edges = nodes, [nodes], []
        for fanout in self.fanouts:
            edge_ids = self._incoming(frontier, fanout)
            edges.append(edge_ids)
            sources = torch.unique(self.graph.edge_index[0, edge_ids])
            frontier = sources[~seen[sources]]
            seen[frontier] = True
            all_nodes.append(frontier)
        n_id = torch.cat(all_nodes)
        local = torch.full((self.graph.num_nodes,), -1, dtype=torch.long)
        local[n_id] = torch.arange(len(n_id))
        edge_ids = torch.cat(edges)
        return Subgraph(n_id, local[self.graph.edge_index[:, edge_ids]], self.graph.edge_type[edge_ids], seed_local,
                        [len(part) for part in all_nodes], [len(part) for part in edges])
