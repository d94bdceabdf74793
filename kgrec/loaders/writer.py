"""Writing a graph into Neo4j: constraints, then nodes, then relationships, in batches.

How it stays idempotent and fast (numbers in bench/results/load.json and NEO4J_LOCAL.md):

- every label gets a uniqueness constraint on ``id`` before the first write;
- nodes are MERGEd by ``id`` (few compared with relationships) and written only when new or
  changed; the batch returns the nodes' element ids;
- relationships are not MERGEd row by row (~3k rows/s into a dense type). The loader reads the
  pairs that already exist from the heads in its input (skipped when the type is empty), and
  then CREATEs only the new pairs and SETs only the changed ones, matching endpoints by element
  id (~2x faster than by ``id``). Re-running the same load writes nothing.
- each batch (``batch_size`` rows, default 20,000) is its own transaction: a failed batch
  leaves nothing behind, and running the load again completes it. Relationship batches run
  ``workers`` at a time (default 2), so the server executes one while it commits another.

The diff assumes no other process writes the same relationships during the load, the same
assumption Neo4j's own bulk importer makes.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter

import neo4j
import numpy as np
import pandas as pd
from tqdm import tqdm

from kgrec.cypher import load as load_query
from kgrec.cypher import render
from kgrec.errors import KgrecError
from kgrec.graph_schema import CATEGORY, IN_CATEGORY, INTERACTED, ITEM, SUBCATEGORY_OF, USER, TabularGraph
from kgrec.loaders.summary import LoadSummary, TypeSummary
from kgrec.loaders.tables import is_missing
from kgrec.loaders.validate import ValidatedGraph, ensure_validated
from kgrec.progress import progress_bar

DEFAULT_BATCH_SIZE = 20_000
DEFAULT_WORKERS = 2
INDEX_TIMEOUT_S = 300
INTERACTION_KEYS = ("weight", "rating", "ts")


class LoadError(KgrecError, RuntimeError):
    """A batch failed in Neo4j. It was rolled back; batches that finished are committed."""


def write_graph(driver: neo4j.Driver, graph: TabularGraph, *, database: str | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, workers: int = DEFAULT_WORKERS,
                progress: bool = True) -> LoadSummary:
    """Write ``graph`` into Neo4j and return what changed.

    A graph that is not a :class:`ValidatedGraph` (e.g. built in code) is validated first with
    ``on_error="raise"``, so bad input never reaches the database.

    Args:
        driver: an open driver (see :func:`kgrec.config.open_driver`).
        graph: the tables to write.
        database: the Neo4j database (default: the server's default database).
        batch_size: rows per transaction; 10k-20k is fastest here.
        workers: relationship batches in flight at once (separate transactions); 2 keeps both
            cores of a small machine busy. 1 writes strictly in order.
        progress: show a progress bar per type on stderr.

    Raises:
        InputError: ``graph`` fails validation (nothing was written).
        LoadError: a batch failed in Neo4j (that batch was rolled back).

    Example:
        >>> summary = write_graph(driver, read_csv_graph(interactions="ratings.csv"))  # doctest: +SKIP
        >>> summary.get("INTERACTED").created  # doctest: +SKIP
    """
    if batch_size < 1 or workers < 1:
        raise ValueError(f"batch_size and workers must be at least 1, not {batch_size} and {workers}")
    started = perf_counter()
    graph = ensure_validated(graph)
    writer = _Writer(driver, database, batch_size, workers, progress)
    nodes, links = graph_parts(graph)
    create_constraints(driver, database, list(nodes))
    for label, frame in nodes.items():
        writer.nodes(label, frame)
    for link in links:
        writer.relationships(link)
    rejected = dict(Counter(r.table for r in graph.rejects))
    types = [summary for summary in writer.summaries.values() if summary.rows]
    return LoadSummary(types, rejected, perf_counter() - started)


@dataclass(frozen=True)
class Links:
    """The relationships of one type between two labels, as both writers receive them.

    ``heads`` and ``tails`` are aligned id series; ``props`` (INTERACTED only) holds the columns
    named in ``INTERACTION_KEYS``.
    """

    rel: str
    head_label: str
    heads: pd.Series
    tail_label: str
    tails: pd.Series
    props: pd.DataFrame | None = None


def graph_parts(graph: ValidatedGraph) -> tuple[dict[str, pd.DataFrame], list[Links]]:
    """What a load writes, in order: node tables per label, then relationships per type.

    The transactional writer and the bulk import (:mod:`kgrec.loaders.bulk`) both write exactly
    this, which is what makes their graphs the same. User, Item and Category are always listed
    (they get their constraint even when empty).
    """
    entities = {label: frame.drop(columns="label")
                for label, frame in graph.entities.groupby("label", sort=True)} if len(graph.entities) else {}
    nodes = {USER: graph.users, ITEM: graph.items, CATEGORY: graph.categories} | entities
    links = []
    if "parent" in graph.categories.columns:
        children = graph.categories[graph.categories["parent"].notna()]
        links.append(Links(SUBCATEGORY_OF, CATEGORY, children["id"], CATEGORY, children["parent"]))
    categorised = graph.item_categories
    links.append(Links(IN_CATEGORY, ITEM, categorised["item_id"], CATEGORY, categorised["category_id"]))
    if len(graph.triples):
        for (head, relation, tail), frame in graph.triples.groupby(["head_label", "relation", "tail_label"]):
            links.append(Links(relation, head, frame["head_id"], tail, frame["tail_id"]))
    interactions = graph.interactions
    links.append(Links(INTERACTED, USER, interactions["user_id"], ITEM, interactions["item_id"],
                       props=interactions.reindex(columns=list(INTERACTION_KEYS))))
    return nodes, links


def create_constraints(driver: neo4j.Driver, database: str | None, labels: Sequence[str]) -> None:
    """A uniqueness constraint on ``id`` per label, then wait until their indexes are online."""
    for label in labels:
        driver.execute_query(render("load_constraint", label=label), database_=database)
    driver.execute_query(load_query("await_indexes"), parameters_={"timeout_seconds": INDEX_TIMEOUT_S},
                         database_=database)


@dataclass(frozen=True)
class _RelationshipQueries:
    """The queries that write one relationship type; only INTERACTED carries properties."""

    count: str
    existing: str
    create: str
    update: str | None = None
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, rel: str, tail_label: str) -> "_RelationshipQueries":
        if rel == INTERACTED:  # a reserved type: its queries name it, it is never a slot
            return cls(load_query("load_interaction_count"), load_query("load_existing_interactions"),
                       load_query("load_interactions"), load_query("load_update_interactions"),
                       INTERACTION_KEYS)
        return cls(render("load_link_count", rel=rel), render("load_existing_links", rel=rel, tail=tail_label),
                   render("load_links", rel=rel))


class _Writer:
    """One load's connection, batch size, element-id maps and running counts."""

    def __init__(self, driver: neo4j.Driver, database: str | None, batch_size: int, workers: int,
                 progress: bool) -> None:
        self.driver, self.database, self.batch_size, self.progress = driver, database, batch_size, progress
        self.workers = workers
        self.element_ids: dict[str, pd.Series] = {}
        self.summaries: dict[tuple[str, str], TypeSummary] = {}

    def nodes(self, label: str, frame: pd.DataFrame) -> None:
        """MERGE the nodes of ``label`` and remember their element ids."""
        summary = self._summary("node", label)
        started = perf_counter()
        rows = _node_rows(frame)
        query = render("load_nodes", label=label)
        ids: list[str] = []
        element_ids: list[str] = []
        with self._bar(label, len(rows)) as bar:
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start:start + self.batch_size]
                result = self._batch(label, start, len(batch), query, rows=batch)
                record = result.records[0]
                ids += record["ids"]
                element_ids += record["element_ids"]
                summary.created += result.summary.counters.nodes_created
                summary.updated += record["updated"]
                bar.update(len(batch))
        self.element_ids[label] = pd.Series(element_ids, index=pd.Index(ids, dtype=object), dtype=object)
        summary.rows += len(rows)
        summary.seconds += perf_counter() - started

    def relationships(self, links: Links) -> None:
        """Create the (head, tail) pairs that are missing and update those whose props changed."""
        rel = links.rel
        summary = self._summary("relationship", rel)
        started = perf_counter()
        queries = _RelationshipQueries.of(rel, links.tail_label)
        keys = list(queries.keys)
        pairs = pd.DataFrame({"h": self._element_ids(links.head_label, links.heads),
                              "t": self._element_ids(links.tail_label, links.tails)})
        for key in keys:
            pairs[key] = links.props[key].reset_index(drop=True)
        existing = self._existing(rel, queries, pairs)
        if existing is None:
            new, changed = pairs, pairs.iloc[:0]
        else:
            merged = pairs.merge(existing, on=["h", "t"], how="left", suffixes=("", "_old"), indicator=True)
            found = (merged.pop("_merge") == "both").to_numpy()
            differs = np.zeros(len(merged), dtype=bool)
            for key in keys:
                differs |= _differs(merged[key], merged.pop(f"{key}_old"))
            new, changed = merged[~found], merged[found & differs]
        with self._bar(rel, len(pairs)) as bar:
            bar.update(len(pairs) - len(new) - len(changed))
            for size, result in self._pipelined(rel, queries.create, self._batches(new, keys)):
                summary.created += result.summary.counters.relationships_created
                bar.update(size)
            for size, result in self._pipelined(rel, queries.update, self._batches(changed, keys)):
                summary.updated += result.records[0]["updated"]
                bar.update(size)
        summary.rows += len(pairs)
        summary.seconds += perf_counter() - started

    def _existing(self, rel: str, queries: _RelationshipQueries, pairs: pd.DataFrame) -> pd.DataFrame | None:
        """The pairs of type ``rel`` already leaving the heads in ``pairs`` (None if ``rel`` is empty)."""
        if not len(pairs) or self._run(queries.count).records[0]["n"] == 0:
            return None
        heads = pairs["h"].unique()
        per_call = max(1, int(self.batch_size * len(heads) / len(pairs)))
        head_ids: list[str] = []
        tail_ids: list[str] = []
        values: list[list] = []
        with self._bar(f"{rel} (existing)", len(heads)) as bar:
            for start in range(0, len(heads), per_call):
                chunk = heads[start:start + per_call].tolist()
                for record in self._run(queries.existing, heads=chunk).records:
                    head_ids += [record["head"]] * len(record["tails"])
                    tail_ids += record["tails"]
                    if queries.keys:
                        values += record["props"]
                bar.update(len(chunk))
        existing = pd.DataFrame({"h": head_ids, "t": tail_ids})
        for index, key in enumerate(queries.keys):
            existing[key] = pd.Series([v[index] for v in values], dtype="float64")
        return existing.drop_duplicates(["h", "t"], keep="last")

    def _pipelined(self, name: str, query: str, batches: Iterator[tuple[int, dict]]
                   ) -> Iterator[tuple[int, neo4j.EagerResult]]:
        """Run batches on ``workers`` connections at once, yielding (rows, result) in order.

        The server runs one transaction per core; while one batch commits, the next executes.
        At most ``workers`` batches are built and in flight, which bounds memory.
        """
        with ThreadPoolExecutor(self.workers) as pool:
            pending: deque[tuple[int, Future]] = deque()
            for start, params in batches:
                size = len(params["heads"])
                pending.append((size, pool.submit(self._batch, name, start, size, query, **params)))
                if len(pending) >= self.workers:
                    size, future = pending.popleft()
                    yield size, future.result()
            while pending:
                size, future = pending.popleft()
                yield size, future.result()

    def _batches(self, frame: pd.DataFrame, keys: list[str]) -> Iterator[tuple[int, dict]]:
        """Yield (first row, parameters) per batch: parallel lists, nulls as None."""
        for start in range(0, len(frame), self.batch_size):
            part = frame.iloc[start:start + self.batch_size]
            params = {"heads": part["h"].tolist(), "tails": part["t"].tolist()}
            for key in keys:
                params[key] = _plain(part[key])
            yield start, params

    def _element_ids(self, label: str, ids: pd.Series) -> np.ndarray:
        return self.element_ids[label].reindex(ids.to_numpy()).to_numpy()

    def _batch(self, name: str, start: int, size: int, query: str, **params) -> neo4j.EagerResult:
        """Run one batch in its own transaction; a failure names the rows and says what to do."""
        try:
            return self._run(query, **params)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
            raise LoadError(
                f"{name}: the batch of rows {start + 1}-{start + size} failed and was rolled back "
                f"({exc}); other batches are committed. Fix the cause and run the same "
                f"load again: it completes the load without duplicating anything") from exc

    def _run(self, query: str, **params) -> neo4j.EagerResult:
        return self.driver.execute_query(query, parameters_=params, database_=self.database)

    def _summary(self, kind: str, name: str) -> TypeSummary:
        return self.summaries.setdefault((kind, name), TypeSummary(kind, name))

    def _bar(self, name: str, total: int) -> tqdm:
        return progress_bar(total=total, desc=name, enabled=self.progress)


def _node_rows(frame: pd.DataFrame) -> list[dict]:
    """``[{id, props}]`` with missing values left out, so they never overwrite stored ones."""
    rows = []
    for record in frame.to_dict("records"):
        node_id = record.pop("id")
        rows.append({"id": node_id, "props": {k: v for k, v in record.items() if not is_missing(v)}})
    return rows


def _plain(series: pd.Series) -> list:
    """Python scalars for the driver, None for missing values."""
    return series.astype(object).where(series.notna(), None).tolist()


def _differs(new: pd.Series, old: pd.Series) -> np.ndarray:
    """Element-wise "not equal", where two missing values are equal."""
    a, b = new.astype("float64").to_numpy(), old.astype("float64").to_numpy()
    return ~((a == b) | (np.isnan(a) & np.isnan(b)))
