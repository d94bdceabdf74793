"""What the graph is: columnar node/edge arrays, and the model's flat view of them.

Two producers hand over the same columns: :func:`columns_from_tabular` (a
:class:`~kgrec.graph_schema.TabularGraph`, e.g. the synthetic sample) and the Neo4j pull
(:mod:`kgrec.engine.neo4j.pull`). Both hand over :class:`GraphColumns`: node ids per label and, per
relationship type, integer index arrays — never a Python object per relationship.

Node ids are sorted per label, so the id <-> index maps are a function of the graph's content
alone: a re-pulled graph gets the same indices, which is what lets a checkpoint resume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from kgrec.graph_schema import CATEGORY, IN_CATEGORY, INTERACTED, ITEM, SUBCATEGORY_OF, USER, TabularGraph

EdgeKey = tuple[str, str, str]  # (head label, relationship type, tail label)
INTERACTION_KEY: EdgeKey = (USER, INTERACTED, ITEM)


@dataclass
class GraphColumns:
    """A knowledge graph as columns.

    Attributes:
        node_ids: label -> sorted array of id strings; a node's index is its position.
        edges: (head label, type, tail label) -> (head index, tail index) int64 arrays, one entry
            per relationship, in the direction stored in Neo4j.
        edge_attrs: same keys -> attribute name -> array aligned with ``edges`` (``ts``,
            ``rating`` and ``weight`` on interactions).
    """

    node_ids: dict[str, np.ndarray]
    edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]]
    edge_attrs: dict[EdgeKey, dict[str, np.ndarray]] = field(default_factory=dict)

    def index_of(self, label: str, ids: np.ndarray | list[str]) -> np.ndarray:
        """Indices of ``ids`` among ``label`` nodes (-1 for unknown ids)."""
        return pd.Index(self.node_ids[label]).get_indexer(np.asarray(ids, dtype=object))

    def fingerprint(self) -> str:
        """A short hash of the node sets: equal fingerprints mean equal id <-> index maps."""
        digest = hashlib.sha1()
        for label in sorted(self.node_ids):
            digest.update(label.encode())
            digest.update("\x1f".join(map(str, self.node_ids[label])).encode())
        return digest.hexdigest()[:16]


def link_columns(node_ids: dict[str, np.ndarray], key: EdgeKey, head_ids: np.ndarray,
                 tail_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn head/tail id arrays into index arrays, dropping pairs whose ends are unknown."""
    head = pd.Index(node_ids[key[0]]).get_indexer(head_ids)
    tail = pd.Index(node_ids[key[2]]).get_indexer(tail_ids)
    keep = (head >= 0) & (tail >= 0)
    return head[keep].astype(np.int64), tail[keep].astype(np.int64)


def sorted_ids(values: pd.Series | np.ndarray) -> np.ndarray:
    """Unique ids as a sorted object array (the canonical node order)."""
    return np.sort(pd.unique(np.asarray(values, dtype=object)).astype(str)).astype(object)


def columns_from_tabular(graph: TabularGraph) -> GraphColumns:
    """Columns of a :class:`TabularGraph` (ids are strings; unknown references are dropped)."""
    node_ids: dict[str, np.ndarray] = {
        USER: sorted_ids(pd.concat([graph.users["id"], graph.interactions["user_id"]])),
        ITEM: sorted_ids(pd.concat([graph.items["id"], graph.interactions["item_id"]])),
        CATEGORY: sorted_ids(graph.categories["id"]),
    }
    for label, ids in graph.entities.groupby("label")["id"]:
        node_ids[str(label)] = sorted_ids(ids)
    edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]] = {}
    attrs: dict[EdgeKey, dict[str, np.ndarray]] = {}

    inter = graph.interactions
    head = pd.Index(node_ids[USER]).get_indexer(inter["user_id"].astype(str).to_numpy(object))
    tail = pd.Index(node_ids[ITEM]).get_indexer(inter["item_id"].astype(str).to_numpy(object))
    edges[INTERACTION_KEY] = (head.astype(np.int64), tail.astype(np.int64))
    attrs[INTERACTION_KEY] = {name: inter[name].to_numpy(np.float64, na_value=np.nan) for name in ("weight", "rating", "ts")
                              if name in inter}
    ic = graph.item_categories
    edges[(ITEM, IN_CATEGORY, CATEGORY)] = link_columns(node_ids, (ITEM, IN_CATEGORY, CATEGORY),
                                                        ic["item_id"].to_numpy(object), ic["category_id"].to_numpy(object))
    if "parent" in graph.categories:
        sub = graph.categories.dropna(subset=["parent"])
        edges[(CATEGORY, SUBCATEGORY_OF, CATEGORY)] = link_columns(
            node_ids, (CATEGORY, SUBCATEGORY_OF, CATEGORY), sub["id"].to_numpy(object), sub["parent"].to_numpy(object))
    for (h, r, t), rows in graph.triples.groupby(["head_label", "relation", "tail_label"]):
        if h in node_ids and t in node_ids:
            edges[(h, r, t)] = link_columns(node_ids, (h, r, t), rows["head_id"].to_numpy(object),
                                            rows["tail_id"].to_numpy(object))
    return GraphColumns(node_ids, edges, attrs)


@dataclass
class FlatGraph:
    """The model's view: every node in one index space, every relationship as two message edges.

    A relationship ``(h)-[r]->(t)`` yields the message ``t -> h`` of relation ``2r`` (how the tail
    informs the head) and ``h -> t`` of relation ``2r + 1`` (its inverse), as in KGAT's
    collaborative knowledge graph. ``edge_index[0]`` is the message source, ``[1]`` the node
    updated. Edges are sorted by destination (CSR order, used by the sampler and chunked
    inference).

    Attributes:
        offsets: label -> first flat index of that label's nodes.
        num_nodes: total node count.
        edge_index: (2, E) message edges, sorted by destination.
        edge_type: (E,) relation id of each message edge.
        edge_key: relation id // 2 -> the relationship type's :data:`EdgeKey`.
        origin: (E,) position of the message's relationship within ``columns.edges[key]``.
        ptr: (num_nodes + 1,) CSR pointer over destinations.
    """

    offsets: dict[str, int]
    num_nodes: int
    edge_index: torch.Tensor
    edge_type: torch.Tensor
    edge_key: list[EdgeKey]
    origin: torch.Tensor
    ptr: torch.Tensor

    @property
    def num_relations(self) -> int:
        return 2 * len(self.edge_key)


def flatten(columns: GraphColumns) -> FlatGraph:
    """Build the :class:`FlatGraph` of ``columns`` (call it with the training edges only)."""
    offsets, start = {}, 0
    for label in sorted(columns.node_ids):
        offsets[label] = start
        start += len(columns.node_ids[label])
    keys = sorted(columns.edges)
    sources, targets, types, origins = [], [], [], []
    for rel, key in enumerate(keys):
        head, tail = columns.edges[key]
        head = torch.from_numpy(head) + offsets[key[0]]
        tail = torch.from_numpy(tail) + offsets[key[2]]
        position = torch.arange(len(head))
        sources += [tail, head]
        targets += [head, tail]
        types += [torch.full((len(head),), 2 * rel), torch.full((len(head),), 2 * rel + 1)]
        origins += [position, position]
    src, dst = torch.cat(sources).long(), torch.cat(targets).long()
    order = torch.argsort(dst, stable=True)
    ptr = torch.zeros(start + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(dst, minlength=start), 0)
    return FlatGraph(offsets, start, torch.stack([src[order], dst[order]]), torch.cat(types)[order].long(),
                     keys, torch.cat(origins)[order].long(), ptr)
