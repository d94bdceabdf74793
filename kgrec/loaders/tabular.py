"""Generic tabular input: CSV files, Parquet files or pandas DataFrames -> a validated graph.

Each argument is one table of :class:`~kgrec.graph_schema.TabularGraph` (see
:mod:`kgrec.loaders.columns` for the columns and their default names); give only the ones you
have. Users, items and categories that are referenced but have no table of their own are
derived from the references.

Example:
    >>> graph = read_csv_graph(interactions="ratings.csv", items="movies.csv",
    ...                        columns={"interactions": {"user_id": "userId", "item_id": "movieId"},
    ...                                 "items": {"id": "movieId"}})  # doctest: +SKIP
    >>> write_graph(driver, graph)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kgrec.loaders.columns import TABLES, ColumnMap
from kgrec.loaders.errors import write_rejects
from kgrec.loaders.tables import Table, frame_table, read_csv_table, read_parquet_table
from kgrec.loaders.validate import ValidatedGraph, validate

PathLike = str | Path


def read_csv_graph(*, columns: ColumnMap | None = None, sep: str = ",", encoding: str = "utf-8",
                   on_error: str = "raise", on_unknown: str = "error", rejects: PathLike | None = None,
                   **files: PathLike | None) -> ValidatedGraph:
    """Read CSV files (keyword per table: ``users=``, ``interactions=``, ...) into a graph.

    Args:
        columns: column renames, e.g. ``{"interactions": {"user_id": "userId"}}``.
        sep: the field separator (``"\\t"`` for TSV).
        encoding: text encoding of every file (``"latin-1"`` for old exports).
        on_error: ``"raise"`` at the first bad row, or ``"skip"`` bad rows (see ``rejects``).
        on_unknown: ``"error"`` or ``"create"`` for references to ids missing from their table.
        rejects: where to write skipped rows as CSV (only written if there are any).
        **files: the path of each table that is given.

    Raises:
        InputError: naming file, line and field of the first problem (``on_error="raise"``).
    """
    tables = {name: read_csv_table(path, name, columns=columns, sep=sep, encoding=encoding,
                                   on_error=on_error)
              for name, path in _given(files).items()}
    return finish(tables, on_error=on_error, on_unknown=on_unknown, rejects=rejects)


def read_parquet_graph(*, columns: ColumnMap | None = None, on_error: str = "raise",
                       on_unknown: str = "error", rejects: PathLike | None = None,
                       **files: PathLike | None) -> ValidatedGraph:
    """Read Parquet files (keyword per table) into a graph; errors name the 1-based row.

    Arguments as :func:`read_csv_graph`. Numeric id columns are fine: ids become strings.
    """
    tables = {name: read_parquet_table(path, name, columns=columns) for name, path in _given(files).items()}
    return finish(tables, on_error=on_error, on_unknown=on_unknown, rejects=rejects)


def read_dataframes(*, columns: ColumnMap | None = None, on_error: str = "raise",
                    on_unknown: str = "error", rejects: PathLike | None = None,
                    **frames: pd.DataFrame | None) -> ValidatedGraph:
    """Validate in-memory DataFrames (keyword per table) as a graph; errors name the 1-based row.

    Arguments as :func:`read_csv_graph`.
    """
    tables = {name: frame_table(frame, name, columns=columns) for name, frame in _given(frames).items()}
    return finish(tables, on_error=on_error, on_unknown=on_unknown, rejects=rejects)


def finish(tables: Mapping[str, Table], *, on_error: str, on_unknown: str,
           rejects: PathLike | None) -> ValidatedGraph:
    """Validate ``tables`` and write the rejects file when rows were skipped."""
    graph = validate(tables, on_error=on_error, on_unknown=on_unknown)
    if rejects is not None and graph.rejects:
        write_rejects(rejects, graph.rejects)
    return graph


def _given(sources: Mapping[str, object]) -> dict[str, object]:
    unknown = set(sources) - set(TABLES)
    if unknown:
        raise TypeError(f"unknown table(s) {sorted(unknown)}; tables are {', '.join(TABLES)}")
    return {name: source for name, source in sources.items() if source is not None}
