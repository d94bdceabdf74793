"""Pulling the knowledge graph (or a subgraph) from Neo4j into :class:`GraphColumns`.

Where the time goes decides the shape of the queries. The Python driver spends about 10 us on
each record and decoding a string costs far more than an integer, so:

* every label's nodes come in one row: internal node ids beside the ``id`` properties;
* relationships come as *internal* node ids, one row per chunk of ``CHUNK_HEADS`` head nodes
  holding a list entry per relationship: a million relationships are a dozen records of
  integer lists, which the Rust packstream extension decodes straight into numpy;
* heads are sought by internal id and tails are not label-checked on the server (a label
  filter per relationship doubled the server time); the tails of each wanted label are picked
  here with the label's internal-id index, as are the unknown ends, which are dropped;
* the head chunks of all relationship types are pulled by ``workers`` sessions at once, so
  the server's scan and the client's decoding overlap.

The node id <-> index maps are the sorted ids per label, exactly as
:func:`~kgrec.engine.data.graph.columns_from_tabular` builds them, so a graph gives the same
columns whether it comes from tables or from Neo4j. Internal ids (:mod:`kgrec.engine.neo4j.node_ids`)
only live within one pull; a pull that races with writes can miss or drop what changed
meanwhile, as any multi-query read of Neo4j can.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import neo4j
import numpy as np
import pandas as pd

from kgrec import cypher
from kgrec.engine.data.graph import INTERACTION_KEY, EdgeKey, GraphColumns
from kgrec.engine.neo4j import node_ids
from kgrec.graph_schema import INTERACTED, ITEM, USER

log = logging.getLogger(__name__)

#: head nodes per result row (one row: a few tens of thousands of relationships at 1M)
CHUNK_HEADS = 4096
#: result rows per query: the unit of work handed to the concurrent sessions
TASK_CHUNKS = 4
#: attributes pulled with each interaction
INTERACTION_ATTRS = ("weight", "rating", "ts")


@dataclass(frozen=True)
class PullStats:
    nodes: int
    relationships: int
    seconds: float

    @property
    def relationships_per_s(self) -> float:
        return self.relationships / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _Nodes:
    """One label's nodes: ``ids`` sorted (a node's index is its position) and the internal id
    of each, in the same order."""

    ids: np.ndarray
    internal: pd.Index

    def index_of(self, internal: np.ndarray) -> np.ndarray:
        """Indices of internal node ids (-1 for nodes without this label)."""
        return self.internal.get_indexer(internal)


def _rows(driver: neo4j.Driver, database: str, query: str, **params) -> list[neo4j.Record]:
    with node_ids.session(driver, database) as session:
        return list(session.run(query, **params))


def _combinations(driver: neo4j.Driver, database: str) -> list[EdgeKey]:
    """(head label, type, tail label) of every relationship in the graph but RECOMMENDED: labels
    with outgoing relationships of a type paired with labels with incoming ones, from the
    counts store (a combination this over-reports just pulls nothing)."""
    schema = _rows(driver, database, cypher.load("pull_schema"))[0]
    heads: dict[str, list[str]] = {}
    tails: dict[str, list[str]] = {}
    for rel in schema["types"]:
        for label in schema["labels"]:
            counts = _rows(driver, database, cypher.render("pull_type_counts", label=label, type=rel))[0]
            if counts["out"]:
                heads.setdefault(rel, []).append(label)
            if counts["in"]:
                tails.setdefault(rel, []).append(label)
    return sorted((h, rel, t) for rel in heads for h in heads[rel] for t in tails.get(rel, []))


def _nodes(driver: neo4j.Driver, database: str, label: str) -> _Nodes:
    internal, ids = node_ids.read(driver, database, label)
    order = np.argsort(ids, kind="stable")
    return _Nodes(ids[order], pd.Index(internal[order]))


@dataclass(frozen=True)
class _Source:
    """The relationships of one type leaving one label's nodes: what one query file pulls."""

    query: str
    heads: np.ndarray  # internal ids
    attrs: tuple[str, ...] = ()

    def dtypes(self) -> dict[str, type]:
        return {"heads": np.int64, "tails": np.int64, **{name: np.float64 for name in self.attrs}}


def _pull_chunks(driver: neo4j.Driver, database: str, source: _Source, chunks: list[list[int]]) -> list[dict]:
    """Per result row, ``heads``, ``tails`` (internal ids) and ``source.attrs`` as arrays."""
    return [{name: np.asarray(record[name], dtype=dtype) for name, dtype in source.dtypes().items()}  # absent attributes arrive as NaN
            for record in _rows(driver, database, source.query, chunks=chunks)]


def _pull(driver: neo4j.Driver, database: str, sources: dict[tuple[str, str], _Source],
          workers: int) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """Every source's columns; the head chunks of all sources share ``workers`` sessions."""
    jobs = []
    for key, source in sources.items():
        ids = np.sort(source.heads).tolist()
        chunks = [ids[i:i + CHUNK_HEADS] for i in range(0, len(ids), CHUNK_HEADS)]
        jobs += [(key, chunks[i:i + TASK_CHUNKS]) for i in range(0, len(chunks), TASK_CHUNKS)]
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda job: _pull_chunks(driver, database, sources[job[0]], job[1]), jobs))
    rows: dict[tuple[str, str], list[dict]] = {key: [] for key in sources}
    for (key, _), result in zip(jobs, results):
        rows[key] += result
    return {key: {name: np.concatenate([np.zeros(0, dtype), *(row[name] for row in rows[key])])
                  for name, dtype in source.dtypes().items()}
            for key, source in sources.items()}


def pull_graph(driver: neo4j.Driver, database: str, *, labels: Sequence[str] | None = None,
               rel_types: Sequence[str] | None = None, user_ids: Sequence[str] | None = None,
               workers: int = 2) -> tuple[GraphColumns, PullStats]:
    """Pull the graph kgrec trains on.

    Args:
        labels: only these node labels (default: every label that has relationships).
        rel_types: only these relationship types (default: all but RECOMMENDED).
        user_ids: only these users' interactions (the other users keep no edges).
        workers: sessions pulling relationships at once.

    Returns:
        The columns and what was pulled (nodes, relationships, seconds).
    """
    started = time.monotonic()
    combos = [c for c in _combinations(driver, database)
              if (labels is None or (c[0] in labels and c[2] in labels))
              and (rel_types is None or c[1] in rel_types)
              and (c[1] != INTERACTED or c == INTERACTION_KEY)]  # INTERACTED is defined between users and items only
    wanted = sorted({c[0] for c in combos} | {c[2] for c in combos} | {USER, ITEM})
    nodes = {label: _nodes(driver, database, label) for label in wanted}

    sources = {}
    for head, rel in sorted({(head, rel) for head, rel, _ in combos}):
        if (head, rel) == INTERACTION_KEY[:2]:
            users = nodes[USER].internal.to_numpy()
            if user_ids is not None:
                chosen = pd.Index(nodes[USER].ids).get_indexer(np.asarray(list(user_ids), dtype=object))
                users = users[np.unique(chosen[chosen >= 0])]
            sources[head, rel] = _Source(cypher.load("pull_interactions"), users, INTERACTION_ATTRS)
        else:
            sources[head, rel] = _Source(cypher.render("pull_relationships", type=rel),
                                         nodes[head].internal.to_numpy())
    pulled = _pull(driver, database, sources, workers)

    edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]] = {}
    attrs: dict[EdgeKey, dict[str, np.ndarray]] = {}
    for key in combos:
        columns = pulled[key[:2]]
        head_idx = nodes[key[0]].index_of(columns["heads"])
        tail_idx = nodes[key[2]].index_of(columns["tails"])
        keep = (head_idx >= 0) & (tail_idx >= 0)
        edges[key] = (head_idx[keep].astype(np.int64), tail_idx[keep].astype(np.int64))
        if key == INTERACTION_KEY:
            attrs[key] = {name: columns[name][keep] for name in INTERACTION_ATTRS}
    stats = PullStats(nodes=sum(len(n.ids) for n in nodes.values()),
                      relationships=sum(len(h) for h, _ in edges.values()),
                      seconds=time.monotonic() - started)
    log.info("pulled %d nodes and %d relationships in %.1f s (%.0f relationships/s)",
             stats.nodes, stats.relationships, stats.seconds, stats.relationships_per_s)
    return GraphColumns({label: n.ids for label, n in nodes.items()}, edges, attrs), stats
