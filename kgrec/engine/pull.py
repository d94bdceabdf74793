"""Pulling the knowledge graph (or a subgraph) from Neo4j into :class:`GraphColumns`.

Rows are one head node each, with its tails as a collected list, and are turned into integer
index arrays chunk by chunk: no Python object per relationship is kept, and memory holds the
index arrays plus one chunk of strings. The node id <-> index maps are the sorted ids per
label, exactly as :func:`~kgrec.engine.graph.columns_from_tabular` builds them, so a graph
gives the same columns whether it comes from tables or from Neo4j.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import neo4j
import numpy as np
import pandas as pd

from kgrec import cypher
from kgrec.engine.graph import INTERACTION_KEY, EdgeKey, GraphColumns
from kgrec.graph_schema import INTERACTED, ITEM, USER

log = logging.getLogger(__name__)

#: head rows turned into index arrays at a time
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class PullStats:
    nodes: int
    relationships: int
    seconds: float

    @property
    def relationships_per_s(self) -> float:
        return self.relationships / self.seconds if self.seconds else 0.0


def _stream(driver: neo4j.Driver, database: str, query: str, **params) -> Iterable[neo4j.Record]:
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=5000) as session:
        yield from session.run(query, **params)


def _chunks(records: Iterable[neo4j.Record], size: int = CHUNK_ROWS) -> Iterable[list[neo4j.Record]]:
    chunk: list[neo4j.Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _index_chunk(rows: list[neo4j.Record], heads: pd.Index, tails: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(head index, tail index, positions kept) of one chunk; unknown ends are dropped."""
    lengths = np.fromiter((len(r["tails"]) for r in rows), dtype=np.int64, count=len(rows))
    head_idx = np.repeat(heads.get_indexer([r["head"] for r in rows]), lengths)
    tail_idx = tails.get_indexer([t for r in rows for t in r["tails"]])
    keep = (head_idx >= 0) & (tail_idx >= 0)
    return head_idx[keep], tail_idx[keep], keep


def _attribute(rows: list[neo4j.Record], name: str, keep: np.ndarray) -> np.ndarray:
    values = np.array([np.nan if v is None else v for r in rows for v in r[name]], dtype=np.float64)
    return values[keep]


def _combinations(driver: neo4j.Driver, database: str) -> list[EdgeKey]:
    """(head label, type, tail label) of every relationship in the graph but RECOMMENDED: labels
    with outgoing relationships of a type paired with labels with incoming ones, from the
    counts store (a combination this over-reports just pulls nothing)."""
    schema = next(iter(_stream(driver, database, cypher.load("pull_schema"))))
    heads: dict[str, list[str]] = {}
    tails: dict[str, list[str]] = {}
    for rel in schema["types"]:
        for label in schema["labels"]:
            counts = next(iter(_stream(driver, database, cypher.render("pull_type_counts", label=label, type=rel))))
            if counts["out"]:
                heads.setdefault(rel, []).append(label)
            if counts["in"]:
                tails.setdefault(rel, []).append(label)
    return sorted((h, rel, t) for rel in heads for h in heads[rel] for t in tails.get(rel, []))


def pull_graph(driver: neo4j.Driver, database: str, *, labels: Sequence[str] | None = None,
               rel_types: Sequence[str] | None = None, user_ids: Sequence[str] | None = None,
               ) -> tuple[GraphColumns, PullStats]:
    """Pull the graph kgrec trains on.

    Args:
        labels: only these node labels (default: every label that has relationships).
        rel_types: only these relationship types (default: all but RECOMMENDED).
        user_ids: only these users' interactions (the other users keep no edges).

    Returns:
        The columns and what was pulled (nodes, relationships, seconds).
    """
    started = time.monotonic()
    combos = _combinations(driver, database)
    combos = [c for c in combos if (labels is None or (c[0] in labels and c[2] in labels))
              and (rel_types is None or c[1] in rel_types)]
    wanted = sorted({c[0] for c in combos} | {c[2] for c in combos} | {USER, ITEM})
    node_ids = {label: np.sort(np.array([r["id"] for r in _stream(driver, database,
                                                                  cypher.render("pull_node_ids", label=label))],
                                        dtype=object))
                for label in wanted}
    index = {label: pd.Index(ids) for label, ids in node_ids.items()}
    edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]] = {}
    attrs: dict[EdgeKey, dict[str, np.ndarray]] = {}
    for key in combos:
        head, rel, tail = key
        is_interaction = key == INTERACTION_KEY
        if rel == INTERACTED and not is_interaction:
            continue  # INTERACTED is defined between users and items only
        query = (cypher.load("pull_interactions") if is_interaction
                 else cypher.render("pull_relationships", head=head, type=rel, tail=tail))
        params = {"user_ids": list(user_ids) if user_ids is not None else None} if is_interaction else {}
        heads, tails, columns = [], [], {"weight": [], "rating": [], "ts": []}
        for rows in _chunks(_stream(driver, database, query, **params)):
            h, t, keep = _index_chunk(rows, index[head], index[tail])
            heads.append(h)
            tails.append(t)
            if is_interaction:
                for name in columns:
                    columns[name].append(_attribute(rows, name, keep))
        edges[key] = (np.concatenate(heads).astype(np.int64) if heads else np.zeros(0, np.int64),
                      np.concatenate(tails).astype(np.int64) if tails else np.zeros(0, np.int64))
        if is_interaction:
            attrs[key] = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in columns.items()}
    stats = PullStats(nodes=sum(len(v) for v in node_ids.values()),
                      relationships=sum(len(h) for h, _ in edges.values()),
                      seconds=time.monotonic() - started)
    log.info("pulled %d nodes and %d relationships in %.1f s (%.0f relationships/s)",
             stats.nodes, stats.relationships, stats.seconds, stats.relationships_per_s)
    return GraphColumns(node_ids, edges, attrs), stats
