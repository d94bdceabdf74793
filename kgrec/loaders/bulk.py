"""Bulk import into an empty database: the same tables, written by Neo4j's offline importer.

Why: a first load through transactions is bound by the server's CPU (see "Transactional load"
in bench/RESULTS.md); ``neo4j-admin database import full`` writes the store files
directly. It needs the server stopped and the database empty, so it is for the first load of
the local server only; later loads stay transactional (:func:`~kgrec.loaders.write_graph`).

The graph is the transactional writer's, node for node: both take their nodes and
relationships from :func:`~kgrec.loaders.writer.graph_parts` of the same validated tables,
every property gets the Neo4j type the driver would give its Python value (``id`` strings,
``weight``/``rating`` floats, ``ts`` integers, a missing value is no property), and the same
uniqueness constraints are created afterwards.

Steps, each with a progress line and its time:

1. write one admin-import CSV file per label and per (type, head label, tail label);
2. check that the database is empty (starting the server if it is not running, unless the
   database has no files at all yet);
3. stop the server, import (``--overwrite-destination``: it was verified empty), start it;
4. check the counts and create the constraints.

Example:
    >>> summary = bulk_write_graph(generate_sample(n_interactions=1_000_000), read_settings())  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections import Counter
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from urllib.parse import urlsplit

import neo4j
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from kgrec import cypher
from kgrec.config import Neo4jSettings, open_driver
from kgrec.graph_schema import TabularGraph, UnsafeIdentifierError, check_label, check_property
from kgrec.loaders.summary import LoadSummary, TypeSummary
from kgrec.loaders.tables import is_missing
from kgrec.loaders.validate import ensure_validated
from kgrec.loaders.writer import Links, LoadError, create_constraints, graph_parts
from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.admin import ImportSource, check_database_name, import_full, store_exists
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import find_java
from kgrec.settings import Settings

#: between the elements of a list property; a control character no text of ours holds
ARRAY_DELIMITER = "\x1f"
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_SCALAR_TYPES = ("boolean", "long", "double", "string")


@dataclass
class ImportFiles:
    """The CSV files of one import and what they hold.

    Attributes:
        nodes: one file per label.
        relationships: one file per (type, head label, tail label).
        rows: ``(kind, name)`` -> rows written, in the order the transactional writer reports.
        labels: every label that gets a uniqueness constraint (also those without rows).
        multiline: some text holds a line break (the importer must be told).
    """

    nodes: list[ImportSource] = field(default_factory=list)
    relationships: list[ImportSource] = field(default_factory=list)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    multiline: bool = False

    def total(self, kind: str) -> int:
        return sum(n for (k, _), n in self.rows.items() if k == kind)


def write_import_files(graph: TabularGraph, folder: Path) -> ImportFiles:
    """Write ``graph`` as admin-import CSV files (header on the first line) into ``folder``.

    Nodes are named by the node ids the import gives them (``--id-type=actual``): dense from 0,
    label after label in file order. Relationships refer to those numbers, so the importer does
    not hash, sort and look up string ids; the ``id`` the data gave stays a string property.

    Raises:
        InputError: ``graph`` fails validation.
        UnsafeIdentifierError: a column name cannot be a property name in a header.
        LoadError: a column mixes value types (one header type per column): load without --bulk.
    """
    nodes, links = graph_parts(ensure_validated(graph))
    files = ImportFiles(labels=list(nodes))
    node_ids = _NodeIds()
    for label, frame in nodes.items():
        if len(frame):
            columns = {":ID": node_ids.assign(label, frame["id"]), "id:string": frame["id"]}
            for name in frame.columns.drop("id"):
                kind, values = _typed(frame[name], where=f"{label}.{name}")
                columns[f"{check_property(name, where=label)}:{kind}"] = values
            files.multiline |= any(_has_line_break(values) for values in columns.values())
            path = folder / f"nodes-{label}.csv"
            _write_csv(columns, path)
            files.nodes.append(ImportSource(label, path))
        files.rows[("node", label)] = len(frame)
    for number, links_of_type in enumerate(links):
        if len(links_of_type.heads):
            path = folder / f"relationships-{number}-{links_of_type.rel}.csv"
            _write_csv(_relationship_columns(links_of_type, node_ids), path)
            files.relationships.append(ImportSource(links_of_type.rel, path))
        key = ("relationship", links_of_type.rel)
        files.rows[key] = files.rows.get(key, 0) + len(links_of_type.heads)
    return files


class _NodeIds:
    """The node id the import gives each (label, id): consecutive from 0 in the order the
    labels are assigned, which is the order their files are handed to the importer."""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}
        self.ids: dict[str, pd.Index] = {}
        self.next = 0

    def assign(self, label: str, ids: pd.Series) -> pd.Series:
        self.first[label], self.ids[label] = self.next, pd.Index(ids)
        self.next += len(ids)
        return pd.Series(np.arange(self.first[label], self.next, dtype=np.int64))

    def of(self, label: str, ids: pd.Series, *, where: str) -> pd.Series:
        """The node ids of ``ids`` of ``label`` (validation made every reference resolve)."""
        index = self.ids.get(label)
        positions = index.get_indexer(ids) if index is not None else np.full(len(ids), -1)
        if (positions < 0).any():
            raise LoadError(f"{where}: {ids[positions < 0].iloc[0]!r} is not a {label} id; validate the "
                            "tables (kgrec.loaders.validate) before the bulk import")
        return pd.Series(positions + self.first.get(label, 0), dtype=np.int64)


def bulk_write_graph(graph: TabularGraph, settings: Settings, *, database: str | None = None,
                     progress: bool = True) -> LoadSummary:
    """Load ``graph`` into the empty database of the local server with ``neo4j-admin``.

    Args:
        graph: the tables to load (validated first unless they already were).
        settings: the local server (:attr:`~kgrec.settings.Settings.layout`, restarted with these
            settings) and how to reach it (:attr:`~kgrec.settings.Settings.neo4j`, whose URI must
            be the local server's).
        database: the database to replace (default: the connection's).
        progress: a line per step on stderr.

    Raises:
        LoadError: the server is not the local one, or the database is not empty (nothing was
            changed), or the counts after the import differ from the rows written.
        ServerError: the admin tool failed (the database is left empty and the server running).
    """
    layout, connection = settings.layout, settings.neo4j
    database = check_database_name(database or connection.database)
    _require_local(connection, layout)
    java = find_java(settings.java_home)
    started = perf_counter()
    graph = ensure_validated(graph)
    steps = _Steps(progress)
    with tempfile.TemporaryDirectory(prefix="kgrec-bulk-") as tmp:
        with steps("write files"):
            files = write_import_files(graph, Path(tmp))
        with steps("check empty"):
            kept_labels = _require_empty(settings, database)
        with steps("stop server"):
            lifecycle.stop(layout)
        try:
            with steps("import"):
                import_full(layout, database, java=java, nodes=files.nodes, relationships=files.relationships,
                            array_delimiter=ARRAY_DELIMITER, multiline=files.multiline,
                            report_file=layout.server_home / "logs" / "import.report",
                            rows=sum(files.rows.values()), id_type="actual")
        finally:
            with steps("start server"):  # until the database answers a query
                lifecycle.start(layout, settings=settings)
                with open_driver(connection) as driver:
                    found = _counts(driver, database)
    _require_counts(found, database, files)
    with steps("constraints"), open_driver(connection) as driver:
        create_constraints(driver, database, list(dict.fromkeys(files.labels + kept_labels)))
    types = [TypeSummary(kind, name, rows=rows, created=rows) for (kind, name), rows in files.rows.items() if rows]
    rejected = dict(Counter(r.table for r in graph.rejects))
    return LoadSummary(types, rejected, perf_counter() - started, steps.seconds)


class _Steps:
    """Times each step of the import and, with ``progress``, prints a line for it on stderr."""

    def __init__(self, progress: bool) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.progress:
            print(f"bulk import: {name} ...", end="", file=sys.stderr, flush=True)
        started = perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = perf_counter() - started
            if self.progress:
                print(f" {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)


def _require_local(settings: Neo4jSettings, layout: ServerLayout) -> None:
    """The import writes the server's files, so only the server kgrec runs on this machine will do."""
    uri = urlsplit(settings.uri)
    if uri.scheme in ("bolt", "neo4j") and uri.hostname in _LOCAL_HOSTS and (uri.port or 7687) == layout.bolt_port:
        return
    raise LoadError(f"--bulk writes the files of the local server ({layout.bolt_uri}), but NEO4J_URI is "
                    f"{settings.uri}: unset NEO4J_URI to load into the local server, or load without --bulk")


def _require_empty(settings: Settings, database: str) -> list[str]:
    """Refuse a database with data or with a schema the import would drop; return the labels of
    the ``id`` constraints it has, which are created again afterwards.

    A stopped server whose database has no files yet (a new ``KGREC_HOME``) holds nothing, and
    is not started just to be asked.
    """
    layout = settings.layout
    if not lifecycle.status(layout).running and not store_exists(layout, database):
        return []
    lifecycle.start(layout, settings=settings)
    with open_driver(settings.neo4j) as driver:
        counts = _counts(driver, database)
        constraints = _run(driver, database, "bulk_constraints")
        indexes = _run(driver, database, "bulk_indexes")
    if counts["nodes"]:
        raise LoadError(f"database {database!r} is not empty ({counts['nodes']:,} nodes); --bulk only "
                        "loads into an empty database: load without --bulk to add to it")
    ours = [c for c in constraints if c["type"] == "UNIQUENESS" and c["entityType"] == "NODE"
            and c["properties"] == ["id"] and len(c["labelsOrTypes"]) == 1 and _is_label(c["labelsOrTypes"][0])]
    foreign = [c["name"] for c in constraints if c not in ours] + [i["name"] for i in indexes]
    if foreign:
        raise LoadError(f"database {database!r} has no data but has indexes or constraints the bulk import "
                        f"would drop ({', '.join(foreign)}): drop them, or load without --bulk")
    return [c["labelsOrTypes"][0] for c in ours]


def _is_label(name: str) -> bool:
    """Whether ``name`` passes the label allow-list, as the constraint query needs it to."""
    try:
        check_label(name, allow_reserved=True)
    except UnsafeIdentifierError:
        return False
    return True


def _counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """Nodes and relationships in ``database`` (the driver retries while it is still starting)."""
    return dict(_run(driver, database, "bulk_counts")[0])


def _require_counts(found: dict[str, int], database: str, files: ImportFiles) -> None:
    expected = {"nodes": files.total("node"), "relationships": files.total("relationship")}
    if found != expected:
        raise LoadError(f"after the bulk import database {database!r} holds {found['nodes']:,} nodes and "
                        f"{found['relationships']:,} relationships where {expected['nodes']:,} and "
                        f"{expected['relationships']:,} were written; load again without --bulk")


def _run(driver: neo4j.Driver, database: str, name: str) -> list[neo4j.Record]:
    return driver.execute_query(cypher.load(name), database_=database).records


def _relationship_columns(links: Links, node_ids: _NodeIds) -> dict[str, pd.Series]:
    columns = {":START_ID": node_ids.of(links.head_label, links.heads, where=f"{links.rel} head"),
               ":END_ID": node_ids.of(links.tail_label, links.tails, where=f"{links.rel} tail")}
    for name in links.props.columns if links.props is not None else ():
        kind, values = _typed(links.props[name], where=f"{links.rel}.{name}")
        columns[f"{name}:{kind}"] = values
    return columns


def _write_csv(columns: dict[str, pd.Series], path: Path) -> None:
    """Header, then rows: text quoted (``""`` is an empty string), a missing value an empty
    field (no property), floats in their shortest exact form. Arrow writes a million rows in
    0.3 s where pandas takes 2.4 s; the header's names are checked identifiers, never quoted."""
    # one chunk per column: pyarrow 26 wrote garbage for text columns in several chunks (the users
    # and items created from an interactions file that was read in blocks)
    table = pa.Table.from_pandas(pd.DataFrame({name: values.reset_index(drop=True)
                                               for name, values in columns.items()}),
                                 preserve_index=False).combine_chunks()
    with open(path, "wb") as out:
        out.write((",".join(columns) + "\n").encode())
        pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))


def _typed(values: pd.Series, *, where: str) -> tuple[str, pd.Series]:
    """The import type of one property column and its values as ``to_csv`` should write them.

    The transactional writer hands each value to the driver, so a value's Neo4j type is its
    Python type; here a column has one type in the header, so its values must share one.
    Missing values stay missing: an empty field sets no property, as a null does.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", values.map(_FORMATS["boolean"], na_action="ignore")
    if pd.api.types.is_integer_dtype(dtype):
        return "long", values
    if pd.api.types.is_float_dtype(dtype):
        as_double = values.astype("float64")  # what the driver sends for a float32 too
        if np.isinf(as_double).any():  # Java spells it Infinity
            return "double", as_double.map(_FORMATS["double"], na_action="ignore")
        return "double", as_double
    if isinstance(dtype, pd.StringDtype):
        return "string", values
    if dtype != object:
        raise LoadError(f"{where}: values of type {dtype} cannot go through the bulk import; load without --bulk")
    present = values[~values.map(is_missing)]
    kinds = set(present.map(_kind))
    if len(kinds) > 1 or None in kinds:
        raise LoadError(f"{where}: the values mix types ({', '.join(sorted(map(str, kinds)))}), which one "
                        "column of the bulk import cannot hold; load without --bulk")
    kind = kinds.pop() if kinds else "string"
    if kind == "string":
        return kind, values
    return kind, values.map(_FORMATS[kind] if kind in _FORMATS else _array_formatter(kind, where), na_action="ignore")


def _kind(value: object) -> str | None:
    """The Neo4j type the driver gives ``value`` (``long``, ``string[]``, ...); None if none."""
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "long"
    if isinstance(value, (float, np.floating)):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple, np.ndarray)) and len(value):
        inner = {_kind(v) for v in value}
        if len(inner) == 1 and (element := inner.pop()) in _SCALAR_TYPES:
            return f"{element}[]"
    return None  # an empty list (no typed form in the importer), a mixed list, a map, ...


def _double_text(value: float) -> str:
    value = float(value)
    return repr(value) if np.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


_FORMATS = {"boolean": lambda v: "true" if v else "false", "long": lambda v: str(int(v)),
            "double": _double_text, "string": str}


def _array_formatter(kind: str, where: str):
    element = _FORMATS[kind.removesuffix("[]")]

    def text(values: object) -> str:
        parts = [element(v) for v in values]
        if any(ARRAY_DELIMITER in part for part in parts):
            raise LoadError(f"{where}: a list element holds the control character U+001F, which the bulk "
                            "import uses between elements; load without --bulk")
        return ARRAY_DELIMITER.join(parts)

    return text


def _has_line_break(values: pd.Series) -> bool:
    if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return False
    text = values.dropna()
    return bool(text.map(lambda v: isinstance(v, str) and ("\n" in v or "\r" in v)).any())
