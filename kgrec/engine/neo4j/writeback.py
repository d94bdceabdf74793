"""Writing what a trained model learned back into Neo4j, so that a version switch is atomic.

What is written (docs/design.md): an embedding on every node the model embeds (and a message
vector on every item, when the model has them), a vector index on ``:Item`` and ``:User``
embeddings, the learned attention on every relationship the model attends over, the top-K as ``(:User)-[:RECOMMENDED {score, rank, model}]->(:Item)``, and one
``(:Model)`` node with version, parameters, metrics and ``active``.

**Two property slots.** Rewriting a million relationships cannot happen in one transaction
(on a small heap), so a model is written beside the active one, not over it: embeddings and
attention live in slot properties ``embedding_a`` / ``attention_a`` or ``embedding_b`` /
``attention_b`` with one vector index per slot (``item_embedding_a`` ...). A new model is
written into the slot the active model does not use, with its RECOMMENDED edges tagged by its
version, while its ``:Model`` node stays inactive; then one small transaction flips
``active``. The ``:Model`` node names its properties and indexes (``embedding_property``,
``attention_property``, ``item_index``, ``user_index``) and every query reads them through the
active model — so a query sees the old model or the new one, never a mix. A run that dies
before the flip leaves the previous model serving; its leftovers are removed by the next run.
After the flip, the retired model's edges, node and slot properties are removed.

**One publish at a time.** All of this runs under the database's publish lock
(:mod:`kgrec.engine.neo4j.publish_lock`), and the flip checks first that the slot holds everything that
was written: two runs at once once wrote into the same slot, and the loser's cleanup removed
the winner's attention from the served model.

Example:
    >>> write_model(driver, "neo4j", columns, output)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import neo4j
import numpy as np
import pandas as pd

from kgrec import cypher
from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns
from kgrec.engine.edge_evidence import evidence_properties
from kgrec.engine.neo4j import node_ids
from kgrec.engine.neo4j.publish_lock import DEFAULT_WAIT_S, LOCK_NAME, PublishLock, PublishLockedError
from kgrec.engine.output import ModelOutput
from kgrec.errors import KgrecError
from kgrec.graph_schema import ITEM, USER
from kgrec.progress import progress_bar
from kgrec.serving import library

log = logging.getLogger(__name__)

SLOTS = ("a", "b")
#: how long a write-back waits for its vector indexes to come online before the publish fails
INDEX_TIMEOUT_S = 600
#: per label, the HNSW options of its vector index (``writeback_vector_index``): the item index
#: proposes the candidates that ``embedding_recommendations`` and ``similar_items`` re-rank by
#: dot product; the user index keeps Neo4j's defaults
VECTOR_INDEX_CONFIG = {ITEM: {"m": 32, "ef_construction": 200, "quantization": False},
                       USER: {"m": 16, "ef_construction": 100, "quantization": True}}


@dataclass(frozen=True)
class SlotNames:
    """Property and index names of one slot."""

    slot: str

    @property
    def embedding_property(self) -> str:
        return f"embedding_{self.slot}"

    @property
    def message_property(self) -> str:
        """The items' message vectors (the queries of ``similar_items``), beside their embeddings."""
        return f"message_{self.slot}"

    @property
    def attention_property(self) -> str:
        return f"attention_{self.slot}"

    def index(self, label: str) -> str:
        return f"{label.lower()}_embedding_{self.slot}"

    def as_model_props(self, messages: bool) -> dict[str, str]:
        """The names the ``:Model`` node records; ``message_property`` only for a model that
        writes item message vectors (queries fall back to the item's embedding without it)."""
        props = {"slot": self.slot, "embedding_property": self.embedding_property,
                 "attention_property": self.attention_property,
                 "item_index": self.index(ITEM), "user_index": self.index(USER)}
        return {**props, "message_property": self.message_property} if messages else props


@dataclass
class WriteStats:
    embeddings: int = 0
    attention: int = 0
    recommendations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def embeddings_per_s(self) -> float:
        return self.embeddings / self.seconds.get("embeddings", 0) if self.seconds.get("embeddings") else 0.0

    @property
    def attention_per_s(self) -> float:
        return self.attention / self.seconds.get("attention", 0) if self.seconds.get("attention") else 0.0


def _write(driver: neo4j.Driver, database: str, query: str, batches: Iterable[tuple[int, dict]], total: int,
           desc: str, progress: bool, workers: int, **params) -> int:
    """Each batch (rows in it, its parameters) in its own write transaction (with the driver's
    retry), ``workers`` at a time; returns what the batches report as ``written``.

    Why several in flight: the server spends most of a batch's time storing it and the client
    packing the next one, and two transactions overlap those. Batches are built lazily
    (``batches`` is a generator) while ``workers`` of them run, so at most ``workers + 1`` exist
    at once, and the server never waits for the client between batches. Nothing written here is visible to queries before the flip, so the order in which
    batches commit does not matter.
    """
    def run(batch: tuple[int, dict]) -> tuple[int, int]:
        rows, batch_params = batch
        with node_ids.session(driver, database, neo4j.WRITE_ACCESS) as session:
            written = session.execute_write(
                lambda tx: tx.run(query, {**batch_params, **params}).single(strict=True)["written"])
        return rows, written

    written = 0
    with progress_bar(total=total, desc=desc, enabled=progress) as bar, \
            ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[tuple[int, int]]] = deque()

        def collect() -> None:
            nonlocal written
            rows, stored = pending.popleft().result()
            bar.update(rows)
            written += stored

        for batch in batches:
            pending.append(pool.submit(run, batch))
            if len(pending) > workers:
                collect()
        while pending:
            collect()
    return written


class _Unlogged(list):
    """A list query parameter that the driver's debug log does not spell out.

    Why: the driver formats every parameter for its debug log even when that log is off
    (neo4j 6.4, ``Bolt5x5.run``), and formatting a batch of embeddings or attention values
    took longer than the server took to store it (about 2 s of client time per 70k embeddings
    of 64 floats). Packing is unchanged: this is still a list.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} values>"


def _cleanup(driver: neo4j.Driver, database: str, keep: list[str], names: SlotNames) -> None:
    for label in (ITEM, USER):
        driver.execute_query(cypher.render("writeback_drop_index", index=names.index(label)), database_=database)
    with driver.session(database=database) as session:  # CALL IN TRANSACTIONS needs an implicit transaction
        session.run(cypher.load("writeback_cleanup"), keep=keep, attention_property=names.attention_property,
                    embedding_property=names.embedding_property, message_property=names.message_property).consume()


class IncompleteModelError(KgrecError, RuntimeError):
    """A written model does not hold what its write-back wrote, so it was not activated."""


def write_model(driver: neo4j.Driver, database: str, columns: GraphColumns, output: ModelOutput, *,
                batch_size: int = 5000, workers: int = 2, progress: bool = True,
                lock_wait_s: float = DEFAULT_WAIT_S) -> WriteStats:
    """Write ``output`` into the free slot, then make it the active model (see the module doc).

    Everything from the choice of the slot to the cleanup after the switch happens under the
    database's :class:`~kgrec.engine.neo4j.publish_lock.PublishLock`: a second publish waits for the
    first (and then publishes its own model), so two runs never share a slot. Before the switch,
    the slot's embeddings and attention and the version's RECOMMENDED edges are counted in the
    database and must equal what was written.

    Args:
        batch_size: nodes per embedding transaction; attention goes in transactions of about
            ``4 * batch_size`` relationships, RECOMMENDED in ``batch_size // 20`` users.
        workers: transactions in flight at once. Creating a RECOMMENDED edge locks both of its
            nodes; concurrent batches share no user and create their edges in item order, so
            they take the item locks they share in one order (a deadlock, should the server
            still report one, is retried by the driver).
        lock_wait_s: how long to wait for another run's publish before giving up.

    Raises:
        PublishLockedError: another run held the publish lock for longer than ``lock_wait_s``.
        IncompleteModelError: the written model is not whole (the previous model stays active).
    """
    with PublishLock(driver, database, wait_s=lock_wait_s) as lock:
        return _write_locked(driver, database, columns, output, lock.owner, batch_size, workers, progress)


def _write_locked(driver: neo4j.Driver, database: str, columns: GraphColumns, output: ModelOutput, owner: str,
                  batch_size: int, workers: int, progress: bool) -> WriteStats:
    stats = WriteStats()
    active = library.active_model(driver, database)
    current = active.slot if active else None
    names = SlotNames("b" if current == "a" else "a")
    previous = SlotNames(current) if current else None
    keep = [output.version]
    started = time.monotonic()
    _cleanup(driver, database, keep + ([active.version] if active else []), names)  # leftovers of a dead run
    dim = int(next(iter(output.embeddings.values())).shape[1])
    props = {**names.as_model_props(messages=output.item_messages is not None), "dim": dim,
             "params": json.dumps(output.params), "metrics": json.dumps(output.metrics),
             "checkpoint": output.checkpoint}
    driver.execute_query(cypher.load("writeback_model"), version=output.version, props=props, database_=database)
    stats.seconds["prepare"] = time.monotonic() - started

    started = time.monotonic()
    stats.embeddings = _write(driver, database, cypher.load("writeback_embeddings"),
                              _embedding_batches(driver, database, columns, output.embeddings, batch_size),
                              sum(len(matrix) for matrix in output.embeddings.values()),
                              "embeddings", progress, workers, property=names.embedding_property)
    if output.item_messages is not None:
        stats.embeddings += _write(driver, database, cypher.load("writeback_embeddings"),
                                   _embedding_batches(driver, database, columns, {ITEM: output.item_messages},
                                                      batch_size),
                                   len(output.item_messages), "item messages", progress, workers,
                                   property=names.message_property)
    stats.seconds["embeddings"] = time.monotonic() - started

    started = time.monotonic()
    for key, values in output.attention.items():
        head_label, rel, tail_label = key
        head, tail = columns.edges[key]
        stats.attention += _write(
            driver, database, cypher.render("writeback_attention", head=head_label, type=rel, tail=tail_label),
            _attention_batches(columns.node_ids[head_label][head], columns.node_ids[tail_label][tail], values,
                               batch_size), len(values), f"attention {rel}", progress, workers,
            property=names.attention_property)
    stats.seconds["attention"] = time.monotonic() - started

    started = time.monotonic()
    stats.recommendations = _write(driver, database, cypher.load("writeback_recommended"),
                                   _recommended_batches(driver, database, columns, output, max(1, batch_size // 20)),
                                   int((output.top_items >= 0).any(1).sum()), "RECOMMENDED", progress, workers,
                                   version=output.version)
    stats.seconds["recommended"] = time.monotonic() - started

    started = time.monotonic()
    for label in (ITEM, USER):
        if label in output.embeddings:
            driver.execute_query(cypher.render("writeback_vector_index", index=names.index(label), label=label,
                                               property=names.embedding_property), dim=dim,
                                 **VECTOR_INDEX_CONFIG[label], database_=database)
    driver.execute_query(cypher.load("await_indexes"), timeout_seconds=INDEX_TIMEOUT_S, database_=database)
    stats.seconds["vector_index"] = time.monotonic() - started

    started = time.monotonic()
    _verify(driver, database, output.version, names, stats)
    activated, _, _ = driver.execute_query(cypher.load("writeback_activate"), version=output.version,
                                           lock=LOCK_NAME, owner=owner, database_=database)
    if not activated:
        raise PublishLockedError(f"the publish lock of database {database!r} was taken over while model "
                                 f"{output.version} was being written (its heartbeat stalled); it was not "
                                 "activated and the previous model stays active. Run the publish again.")
    stats.seconds["activate"] = time.monotonic() - started
    started = time.monotonic()
    if previous:
        _cleanup(driver, database, keep, previous)
    stats.seconds["cleanup"] = time.monotonic() - started
    log.info("model %s active: %d embeddings (%.0f/s), %d attention values (%.0f/s), %d recommendations",
             output.version, stats.embeddings, stats.embeddings_per_s, stats.attention, stats.attention_per_s,
             stats.recommendations)
    return stats


def _verify(driver: neo4j.Driver, database: str, version: str, names: SlotNames, stats: WriteStats) -> None:
    """Refuse to activate a model whose slot does not hold exactly what was written (or holds
    nothing), e.g. because something else removed part of it meanwhile."""
    records, _, _ = driver.execute_query(cypher.load("writeback_verify"), version=version,
                                         embedding_property=names.embedding_property,
                                         message_property=names.message_property,
                                         attention_property=names.attention_property, database_=database)
    found = records[0]
    expected = {"embeddings": stats.embeddings, "attention": stats.attention,
                "recommendations": stats.recommendations}
    # a model without embeddings or attention explains nothing (every path would weigh 0)
    wrong = [f"{found[kind]:,} of {count:,} {kind}" for kind, count in expected.items()
             if found[kind] != count or (count == 0 and kind != "recommendations")]
    if wrong:
        raise IncompleteModelError(
            f"model {version} is incomplete in database {database!r}: it holds {', '.join(wrong)}; it was not "
            "activated and the previous model stays active. Run the publish again.")


def _embedding_batches(driver: neo4j.Driver, database: str, columns: GraphColumns,
                       embeddings: dict[str, np.ndarray], size: int) -> Iterator[tuple[int, dict]]:
    """``size`` nodes per batch, all labels in one stream (the workers never wait for a label's
    last batch): internal ids (read now), labels, ids, embeddings. Ids no longer in the graph
    are skipped."""
    nodes, labels, ids, rows = [], [], [], []
    for label, matrix in embeddings.items():
        internal, stored = node_ids.read(driver, database, label)
        positions = pd.Index(stored).get_indexer(np.asarray(columns.node_ids[label], dtype=object))
        present = np.flatnonzero(positions >= 0)
        nodes.append(internal[positions[present]])
        labels.append(np.full(len(present), label, dtype=object))
        ids.append(columns.node_ids[label][present])
        rows.append(np.asarray(matrix, dtype=np.float32)[present])
    nodes, labels, ids, matrix = (np.concatenate(parts) for parts in (nodes, labels, ids, rows))
    for start in range(0, len(nodes), size):
        batch = slice(start, start + size)
        yield len(nodes[batch]), {"nodes": nodes[batch].tolist(), "labels": labels[batch].tolist(),
                                  "ids": ids[batch].tolist(),
                                  "embeddings": _Unlogged(matrix[batch].astype(np.float64).tolist())}


def _recommended_batches(driver: neo4j.Driver, database: str, columns: GraphColumns, output: ModelOutput,
                         size: int) -> Iterator[tuple[int, dict]]:
    """Rows of ``writeback_recommended``, ``size`` users with a list per batch, built as they are
    written: each user (internal id, read now, and id), how many interactions the list is
    computed from (the API folds a user in again once that count changes), and per recommended
    item (internal id and id) its edge's properties: rank, score, evidence and its weights (the
    -1 padding dropped) and how each contribution splits into channels; the edges of a batch in
    the order of their items' internal ids (see ``writeback_recommended``). Users and items no
    longer in the graph are skipped."""
    users, items = columns.node_ids[USER], np.asarray(columns.node_ids[ITEM], dtype=object)
    user_nodes, item_nodes = (_internal_ids(driver, database, label, columns) for label in (USER, ITEM))
    history = np.bincount(columns.edges[INTERACTION_KEY][0], minlength=len(users))
    listed = (output.top_items >= 0) & (item_nodes[np.maximum(output.top_items, 0)] >= 0)
    writable = np.flatnonzero(listed.any(1) & (user_nodes[:len(output.top_items)] >= 0))
    for start in range(0, len(writable), size):
        rows = writable[start:start + size]
        picks, valid = output.top_items[rows], listed[rows]
        item_rows = item_nodes[np.maximum(picks, 0)]
        nodes, ids = item_rows.tolist(), items[np.maximum(picks, 0)].tolist()
        scores, ranks = output.top_scores[rows].astype(np.float64).tolist(), np.cumsum(valid, 1).tolist()
        evidence = (evidence_properties(items, output.evidence_items, output.evidence_weights,
                                        output.evidence_channels, rows, output.evidence_co_raters)
                    if output.evidence_items is not None else [[{}] * picks.shape[1]] * len(rows))
        user_rows = [{"node": int(user_nodes[row]), "user": str(users[row]), "history": int(history[row])}
                     for row in rows.tolist()]
        listed_b, listed_t = np.nonzero(valid)
        order = np.argsort(item_rows[listed_b, listed_t], kind="stable")  # the items' lock order
        edges = [{"user": user_rows[b]["node"], "user_id": user_rows[b]["user"], "node": nodes[b][t],
                  "item": ids[b][t], "rank": ranks[b][t], "score": scores[b][t], **evidence[b][t]}
                 for b, t in zip(listed_b[order].tolist(), listed_t[order].tolist())]
        yield len(user_rows), {"rows": _Unlogged(user_rows), "edges": _Unlogged(edges)}


def _internal_ids(driver: neo4j.Driver, database: str, label: str, columns: GraphColumns) -> np.ndarray:
    """The internal node id of each of ``columns``' ``label`` nodes, read now; -1 for a node no
    longer in the graph."""
    internal, stored = node_ids.read(driver, database, label)
    positions = pd.Index(stored).get_indexer(np.asarray(columns.node_ids[label], dtype=object))
    return np.where(positions >= 0, internal[np.maximum(positions, 0)], -1)


def _attention_batches(heads: np.ndarray, tails: np.ndarray, values: np.ndarray, size: int) -> Iterator[tuple[int, dict]]:
    """One row per head node, ``{head, attention: {tail id: value}}``, in batches of about
    ``4 * size`` relationships (a head's relationships are never split: one MATCH per head)."""
    order = np.argsort(heads, kind="stable")
    heads, tails, values = heads[order], tails[order], np.asarray(values, dtype=np.float64)[order]
    bounds = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1], True])
    batch, in_batch = [], 0
    for start, end in zip(bounds[:-1], bounds[1:]):
        batch.append({"head": heads[start], "attention": dict(zip(tails[start:end].tolist(), values[start:end].tolist()))})
        in_batch += end - start
        if in_batch >= 4 * size:
            yield in_batch, {"rows": _Unlogged(batch)}
            batch, in_batch = [], 0
    if batch:
        yield in_batch, {"rows": _Unlogged(batch)}
