"""Validation: every input row is checked before anything reaches Neo4j.

Checking first, writing second is what makes ``on_error="raise"`` safe: bad input stops the load
before the first write, so the database holds exactly what it held before. The checks are
vectorised (pandas) because they run over millions of interactions; only the rows that fail
are looked at one by one, to say why.

Rules (each names file, line and field when it fails):

- ids are strings, surrounding spaces removed; an empty id is an error;
- ``rating``, ``weight`` and ``ts`` must be finite numbers when present (``ts`` is truncated to
  whole seconds and must fit a 64-bit integer);
- labels and relation names of triples and entities must pass
  :func:`kgrec.graph_schema.check_label` / :func:`~kgrec.graph_schema.check_rel_type`;
- a reference (an interaction's item, a category's parent, a triple's ``Item`` head, ...) must
  name a row of the referenced table. ``on_unknown="create"`` creates the missing node
  instead; a table that was not given at all is always derived from its references;
- duplicates collapse, the last row winning: one node per id, one interaction per
  (user, item), one link per triple.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from kgrec.graph_schema import (CATEGORY, ITEM, USER, TabularGraph, UnsafeIdentifierError, check_label,
                                check_rel_type)
from kgrec.loaders.errors import Reject
from kgrec.loaders.tables import Table, frame_table

ON_ERROR = ("raise", "skip")
ON_UNKNOWN = ("error", "create")

#: node label -> the table that holds those nodes
CORE_TABLES = {USER: "users", ITEM: "items", CATEGORY: "categories"}
_ID_COLUMNS = {
    "users": ("id",), "items": ("id",), "categories": ("id",),
    "item_categories": ("item_id", "category_id"), "interactions": ("user_id", "item_id"),
    "entities": ("id",), "triples": ("head_id", "tail_id"),
}
_OPTIONAL_ID_COLUMNS = {"categories": ("parent",)}
_IDENTIFIER_COLUMNS = {"entities": ("label",), "triples": ("head_label", "tail_label", "relation")}
_NUMBER_COLUMNS = ("rating", "weight", "ts")
#: timestamps must be below this in magnitude: Neo4j and pandas store them as 64-bit integers
TS_LIMIT = 2.0 ** 63
#: node tables -> (the key that makes a row unique, text columns every row has, maybe NA)
_NODE_TABLES = {"users": (("id",), ()), "items": (("id",), ("title",)),
                "categories": (("id",), ("name",)), "entities": (("label", "id"), ("name",))}


@dataclass
class ValidatedGraph(TabularGraph):
    """A :class:`TabularGraph` that passed :func:`validate`, with the rows it left out.

    Guarantees beyond ``TabularGraph``: ids are non-empty strings and unique per table,
    every reference resolves, interactions are unique per (user, item), ``weight`` is a float,
    ``rating`` a float (NaN when absent), ``ts`` a nullable integer, missing text is NA.
    """

    rejects: list[Reject] = field(default_factory=list)


def validate(tables: Mapping[str, Table], *, on_error: str = "raise", on_unknown: str = "error"
             ) -> ValidatedGraph:
    """Check ``tables`` (name -> :class:`Table`) and return them as a :class:`ValidatedGraph`.

    Args:
        tables: any subset of the tables in :data:`kgrec.loaders.columns.TABLES`.
        on_error: ``"raise"`` stops at the first bad row; ``"skip"`` leaves bad rows out and
            lists them in ``rejects``.
        on_unknown: what a reference to an id missing from its table does: ``"error"`` (a bad
            row) or ``"create"`` (a bare node with that id).

    Raises:
        InputError: the first bad row, with ``on_error="raise"``.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}")
    if on_unknown not in ON_UNKNOWN:
        raise ValueError(f"on_unknown must be one of {ON_UNKNOWN}, not {on_unknown!r}")
    rows = _Rows(on_error)
    for table in tables.values():
        rows.rejects.extend(table.malformed)
    checked = {name: _check_rows(table, rows) for name, table in tables.items()}
    given = set(checked)
    for name in CORE_TABLES.values():
        checked.setdefault(name, frame_table(pd.DataFrame({"id": pd.Series([], dtype=str)}), name))
    resolver = _References(checked, given, rows, create=on_unknown == "create")
    resolver.resolve("categories", "parent", "categories", optional=True)
    resolver.resolve("item_categories", "item_id", "items")
    resolver.resolve("item_categories", "category_id", "categories")
    resolver.resolve("interactions", "user_id", "users")
    resolver.resolve("interactions", "item_id", "items")
    for end in ("head", "tail"):
        for label, target in CORE_TABLES.items():
            resolver.resolve("triples", f"{end}_id", target, where=(f"{end}_label", label))
    return _assemble(resolver.tables, rows.rejects)


def ensure_validated(graph: TabularGraph) -> ValidatedGraph:
    """``graph`` itself if it passed :func:`validate`, else validated with ``on_error="raise"``
    (e.g. a graph built in code), so bad input never reaches a writer."""
    return graph if isinstance(graph, ValidatedGraph) else validate(graph_tables(graph))


def graph_tables(graph: TabularGraph) -> dict[str, Table]:
    """The tables of an in-memory graph (e.g. the synthetic sample), ready for :func:`validate`."""
    names = ("users", "items", "categories", "item_categories", "interactions", "entities", "triples")
    return {name: frame_table(getattr(graph, name), name, source=f"<graph.{name}>")
            for name in names if len(getattr(graph, name))}


class _Rows:
    """Applies one check: raises on the first failing row, or sets the failing rows aside."""

    def __init__(self, on_error: str) -> None:
        self.skip = on_error == "skip"
        self.rejects: list[Reject] = []

    def drop(self, table: Table, bad: np.ndarray, column: str, reason: Callable[[Any], str]) -> Table:
        """Return ``table`` without the rows where ``bad``; ``reason(value)`` says why."""
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return table
        positions = np.flatnonzero(bad)
        values = table.frame[column].to_numpy()
        if not self.skip:
            first = positions[0]
            raise table.error(first, column, reason(values[first]))
        self.rejects.extend(table.reject(p, column, reason(values[p])) for p in positions)
        return table.keep(~bad)


def _check_rows(table: Table, rows: _Rows) -> Table:
    """The checks that need only the row itself: ids, labels, numbers."""
    frame = table.frame
    ids = [c for c in _ID_COLUMNS[table.name] + _OPTIONAL_ID_COLUMNS.get(table.name, ()) if c in frame.columns]
    table = replace(table, frame=frame.assign(**{c: _id_strings(frame[c]) for c in ids}))
    for column in _ID_COLUMNS[table.name]:
        table = rows.drop(table, (table.frame[column] == "").to_numpy(), column,
                          lambda _: "empty id; every row needs a value here")
    for column in _IDENTIFIER_COLUMNS.get(table.name, ()):
        table = _check_identifiers(table, column, rows)
    if table.name == "interactions":
        for column in (c for c in _NUMBER_COLUMNS if c in table.frame.columns):
            table = _check_numbers(table, column, rows)
    return table


def _check_numbers(table: Table, column: str, rows: _Rows) -> Table:
    """Reject what is neither blank nor a finite number; the rest becomes float (blank = NaN)."""
    original = table.frame[column]
    values = _numbers(original)
    present = original.notna() if pd.api.types.is_numeric_dtype(original) else _text(original).str.strip() != ""
    bad = (present & ~np.isfinite(values)).to_numpy()
    table = rows.drop(table, bad, column, lambda v: f"{v!r} is not a finite number")
    values = values[~bad]
    if column == "ts":  # stored as a 64-bit integer, in Neo4j as in pandas
        too_large = (values.abs() >= TS_LIMIT).to_numpy()
        table = rows.drop(table, too_large, column,
                          lambda v: f"{v!r} does not fit a 64-bit integer; give seconds since the epoch")
        values = values[~too_large]
    return replace(table, frame=table.frame.assign(**{column: values.to_numpy()}))


def _check_identifiers(table: Table, column: str, rows: _Rows) -> Table:
    """Labels and relation names go into Cypher text, so only allow-listed names pass."""
    check = check_rel_type if column == "relation" else check_label
    reasons: dict[str, str] = {}
    for value in table.frame[column].unique():
        try:
            check(value, where="value")
        except UnsafeIdentifierError as exc:
            reasons[value] = str(exc)
        else:
            if table.name == "entities" and value in CORE_TABLES:
                reasons[value] = (f"{value} rows belong in the {CORE_TABLES[value]} table; the "
                                  f"entities table holds other knowledge entities (Person, Tag, ...)")
    bad = table.frame[column].isin(list(reasons)).to_numpy()
    return rows.drop(table, bad, column, lambda v: reasons[v])


class _References:
    """Resolves references between tables, creating or rejecting unknown ids."""

    def __init__(self, tables: dict[str, Table], given: set[str], rows: _Rows, *, create: bool) -> None:
        self.tables = {name: _unique(table, _NODE_TABLES[name][0]) if name in _NODE_TABLES else table
                       for name, table in tables.items()}
        self.given, self.rows, self.create = given, rows, create

    def resolve(self, name: str, column: str, target: str, *, optional: bool = False,
                where: tuple[str, str] | None = None) -> None:
        """Check ``name.column`` against the ids of ``target`` (rows matching ``where`` only)."""
        table = self.tables.get(name)
        if table is None or column not in table.frame.columns:
            return
        values = table.frame[column]
        relevant = (values != "") if optional else pd.Series(True, index=values.index)
        if where is not None:
            relevant &= table.frame[where[0]] == where[1]
        known = self.tables[target].frame["id"]
        unknown = (relevant & ~values.isin(known)).to_numpy()
        if not unknown.any():
            return
        if self.create or target not in self.given:
            self._add_ids(target, values[unknown].unique())
            return
        target_source = self.tables[target].source
        self.tables[name] = self.rows.drop(
            table, unknown, column,
            lambda v: (f"{v!r} is not in the {target} table ({target_source}); add it there, or pass "
                       f"on_unknown='create' (CLI: --on-unknown create) to create it"))

    def _add_ids(self, target: str, ids: np.ndarray) -> None:
        table = self.tables[target]
        added = pd.DataFrame({"id": pd.Series(ids, dtype=str)})
        frame = pd.concat([table.frame, added], ignore_index=True)
        lines = np.concatenate([table.lines, np.zeros(len(added), dtype=table.lines.dtype)])
        self.tables[target] = replace(table, frame=frame, lines=lines)


def _assemble(tables: dict[str, Table], rejects: list[Reject]) -> ValidatedGraph:
    """Give each table the column types :class:`ValidatedGraph` promises."""
    frames = {name: table.frame for name, table in tables.items()}
    for name, (_, text_columns) in _NODE_TABLES.items():
        if name in frames:
            frames[name] = _text_attributes(frames[name], text_columns)
    if "interactions" in frames:
        frames["interactions"] = _interactions(frames["interactions"])
    for name, key in (("item_categories", ["item_id", "category_id"]),
                      ("triples", ["head_label", "head_id", "relation", "tail_label", "tail_id"])):
        if name in frames:
            frames[name] = frames[name][key].drop_duplicates(ignore_index=True)
    if "triples" in frames:
        frames["entities"] = _entities(frames.get("entities"), frames["triples"])
    graph = ValidatedGraph(rejects=rejects)
    for name, frame in frames.items():
        setattr(graph, name, frame)
    return graph


def _interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """``weight`` = weight column, else rating, else 1.0; one row per (user, item), last wins."""
    out = pd.DataFrame({"user_id": frame["user_id"], "item_id": frame["item_id"]})
    rating = _numbers(frame["rating"]) if "rating" in frame.columns else None
    weight = _numbers(frame["weight"]) if "weight" in frame.columns else pd.Series(np.nan, index=frame.index)
    if rating is not None:
        weight = weight.fillna(rating)
    out["weight"] = weight.fillna(1.0).astype("float64")
    if rating is not None:
        out["rating"] = rating.astype("float64")
    if "ts" in frame.columns:
        out["ts"] = np.trunc(_numbers(frame["ts"])).astype("Int64")
    return out.drop_duplicates(["user_id", "item_id"], keep="last", ignore_index=True)


def _entities(given: pd.DataFrame | None, triples: pd.DataFrame) -> pd.DataFrame:
    """The given entities plus every non-core triple endpoint not among them (without a name)."""
    ends = [triples[[f"{end}_label", f"{end}_id"]].set_axis(["label", "id"], axis=1) for end in ("head", "tail")]
    derived = pd.concat(ends, ignore_index=True).drop_duplicates()
    derived = derived[~derived["label"].isin(list(CORE_TABLES))]
    base = given if given is not None else pd.DataFrame({"label": [], "id": [], "name": []}, dtype=str)
    merged = pd.concat([base, derived], ignore_index=True)
    return merged.drop_duplicates(["label", "id"], keep="first", ignore_index=True)


def _unique(table: Table, key: tuple[str, ...]) -> Table:
    """One row per ``key``, the last row winning (later rows correct earlier ones)."""
    keep = ~table.frame.duplicated(list(key), keep="last").to_numpy()
    return table if keep.all() else table.keep(keep)


def _text_attributes(frame: pd.DataFrame, text_columns: tuple[str, ...]) -> pd.DataFrame:
    """Empty text means "no value": it becomes NA, so no empty-string property is written."""
    frame = frame.copy()
    for column in text_columns:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=object)
    for column in frame.columns:
        if column != "id" and (frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])):
            frame[column] = frame[column].mask(frame[column] == "")
    return frame


def _id_strings(series: pd.Series) -> pd.Series:
    """Ids as strings whatever the input type: ``7`` and ``7.0`` both become ``"7"``."""
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.astype(str)
    if pd.api.types.is_float_dtype(series):
        out = pd.Series("", index=series.index, dtype=object)
        present = series.notna().to_numpy()
        integral = present & (series == np.floor(series)).to_numpy()
        out[integral] = series[integral].astype("int64").astype(str)
        out[present & ~integral] = series[present & ~integral].astype(str)
        return out.astype(str)
    return _text(series).str.strip()


def _text(series: pd.Series) -> pd.Series:
    """``series`` as strings, missing values as ``""``."""
    if pd.api.types.is_string_dtype(series) and not series.hasnans:
        return series
    return series.where(series.notna(), "").astype(str)


def _numbers(series: pd.Series) -> pd.Series:
    """``series`` as floats: blanks and non-numbers NaN (:func:`_check_numbers` tells them apart)."""
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    text = _text(series).str.strip()
    text = text.mask(text == "")
    try:
        return text.astype("float64")  # 3x faster than to_numeric when every value parses
    except ValueError:
        return pd.to_numeric(text, errors="coerce").astype("float64")

