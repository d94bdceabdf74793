"""Loaders: tabular files, DataFrames and MovieLens into the Neo4j knowledge graph.

Read (and validate) first, then write:

    >>> from kgrec.loaders import read_csv_graph, write_graph
    >>> graph = read_csv_graph(users="users.csv", items="items.csv",
    ...                        interactions="ratings.csv", triples="triples.csv")  # doctest: +SKIP
    >>> print(write_graph(driver, graph, batch_size=20_000))  # doctest: +SKIP

Every reader returns a :class:`ValidatedGraph` or raises :class:`InputError` naming file, line
and field; nothing is written before the whole input passed validation. A first load into the
empty local server can go through Neo4j's offline importer instead, with the same result:
:func:`bulk_write_graph` (``kgrec load ... --bulk``).
"""

from kgrec.loaders.bulk import bulk_write_graph
from kgrec.loaders.errors import InputError, Reject, write_rejects
from kgrec.loaders.movielens import read_movielens
from kgrec.loaders.summary import LoadSummary, TypeSummary
from kgrec.loaders.tabular import read_csv_graph, read_dataframes, read_parquet_graph
from kgrec.loaders.validate import ValidatedGraph, validate
from kgrec.loaders.writer import DEFAULT_BATCH_SIZE, DEFAULT_WORKERS, LoadError, write_graph

__all__ = [
    "DEFAULT_BATCH_SIZE", "DEFAULT_WORKERS", "InputError", "LoadError", "LoadSummary", "Reject", "TypeSummary",
    "ValidatedGraph", "bulk_write_graph", "read_csv_graph", "read_dataframes", "read_movielens", "read_parquet_graph",
    "validate", "write_graph", "write_rejects",
]
