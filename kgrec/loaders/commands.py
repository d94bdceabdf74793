"""``kgrec load``: read input, validate all of it, then write it into Neo4j.

    kgrec load csv --users users.csv --items items.csv --interactions ratings.csv \\
                   --triples triples.csv --column interactions.user_id=userId
    kgrec load parquet --interactions ratings.parquet --items items.parquet
    kgrec load movielens ml-100k/ [--format auto|100k|1m|latest]
    kgrec load sample --size 100000 [--seed 0]

Options of every form: ``--bulk`` (first load into the empty local server, with Neo4j's offline
importer), ``--batch-size``, ``--workers``, ``--database``, ``--no-progress``, ``--json``; of the
file forms also ``--on-error raise|skip``, ``--rejects PATH``, ``--on-unknown error|create``.
The summary goes to stdout, the progress bars to stderr.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from kgrec.graph_schema import TabularGraph
from kgrec.loaders.columns import TABLES, parse_column_option
from kgrec.loaders.movielens import FORMATS, read_movielens
from kgrec.loaders.tabular import read_csv_graph, read_parquet_graph
from kgrec.loaders.validate import ON_ERROR, ON_UNKNOWN
from kgrec.loaders.writer import DEFAULT_BATCH_SIZE, DEFAULT_WORKERS, write_graph

if TYPE_CHECKING:
    from kgrec.settings import Settings

DEFAULT_REJECTS = "kgrec-rejects.csv"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``load`` and its forms (``csv``, ``parquet``, ``movielens``) to the ``kgrec`` parser."""
    load = subparsers.add_parser("load", help="load users, items, categories, interactions and "
                                              "knowledge triples into Neo4j")
    forms = load.add_subparsers(dest="load_format", required=True, metavar="FORMAT")

    for name, reader, helptext in (("csv", _read_csv, "CSV files, one per table"),
                                   ("parquet", _read_parquet, "Parquet files, one per table")):
        form = forms.add_parser(name, help=helptext)
        for table in TABLES:
            form.add_argument(f"--{table.replace('_', '-')}", dest=table, metavar="PATH",
                              help=f"the {table} table")
        form.add_argument("--column", action="append", default=[], type=_column, metavar="TABLE.FIELD=NAME",
                          help="the input's name for a column, e.g. interactions.user_id=userId (repeatable)")
        if name == "csv":
            form.add_argument("--sep", default=",", type=_separator,
                              help="field separator (default ','; '\\t' or 'tab' for TSV, '::' works)")
            form.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
        _input_options(form)
        _write_options(form, reader)

    movielens = forms.add_parser("movielens", help="a MovieLens folder (ml-100k, ml-1m, ml-latest[-small])")
    movielens.add_argument("directory", help="the unpacked MovieLens folder")
    movielens.add_argument("--format", choices=FORMATS, default="auto",
                           help="which MovieLens release (default: detect from the ratings file)")
    _input_options(movielens)
    _write_options(movielens, _read_movielens)

    sample = forms.add_parser("sample", help="the bundled synthetic sample (seeded, with planted structure)")
    sample.add_argument("--size", type=int, default=20_000, help="about this many interactions (default 20000)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _write_options(sample, _read_sample)


def _input_options(form: argparse.ArgumentParser) -> None:
    """How bad rows and unknown references in input files are handled."""
    form.add_argument("--on-error", choices=ON_ERROR, default="raise",
                      help="stop at the first bad row (raise), or skip bad rows into --rejects")
    form.add_argument("--rejects", default=DEFAULT_REJECTS, metavar="PATH",
                      help=f"CSV for skipped rows with the reason (default {DEFAULT_REJECTS})")
    form.add_argument("--on-unknown", choices=ON_UNKNOWN, default="error",
                      help="a reference to an id missing from its table: a bad row, or create the node")


def _write_options(form: argparse.ArgumentParser, reader: Callable[[argparse.Namespace], TabularGraph]) -> None:
    form.add_argument("--bulk", action="store_true",
                      help="first load into an empty database of the local server: stop it, run Neo4j's "
                           "offline importer (neo4j-admin database import full), start it again")
    form.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                      help=f"rows per transaction (default {DEFAULT_BATCH_SIZE}; not used with --bulk)")
    form.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                      help=f"relationship batches written at once (default {DEFAULT_WORKERS}; not used with --bulk)")
    form.add_argument("--database", default=None, help="Neo4j database (default: NEO4J_DATABASE or neo4j)")
    form.add_argument("--no-progress", action="store_true", help="no progress bars (with --bulk: no step lines)")
    form.add_argument("--json", action="store_true", help="print the summary as JSON")
    form.set_defaults(func=lambda args, settings: _load(args, settings, reader))


def _load(args: argparse.Namespace, settings: Settings, reader: Callable[[argparse.Namespace], TabularGraph]) -> int:
    """Read and validate everything first; only then open the connection and write."""
    from kgrec.config import open_driver

    graph = reader(args)
    if args.bulk and not settings.neo4j_uri:
        from kgrec.neo4j_server import lifecycle

        # a new KGREC_HOME gets its jars, config and password here but no server, so that the
        # import comes before the server's first start, its only one
        lifecycle.prepare(settings.layout, settings)
    database = args.database or settings.neo4j.database
    if args.bulk:
        from kgrec.loaders.bulk import bulk_write_graph

        summary = bulk_write_graph(graph, settings, database=database, progress=not args.no_progress)
    else:
        with open_driver(settings.neo4j) as driver:
            summary = write_graph(driver, graph, database=database, batch_size=args.batch_size,
                                  workers=args.workers, progress=not args.no_progress)
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary)
    if summary.rejected:
        print(f"{sum(summary.rejected.values())} rejected rows written to {args.rejects}")
    return 0


def _options(args: argparse.Namespace) -> dict:
    return {"on_error": args.on_error, "on_unknown": args.on_unknown, "rejects": args.rejects}


def _separator(text: str) -> str:
    """Shells pass a typed ``\\t`` as two characters; a TSV is what was meant."""
    return "\t" if text in ("\\t", "tab") else text


def _column(option: str) -> tuple[str, str, str]:
    try:
        return parse_column_option(option)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _files(args: argparse.Namespace) -> dict:
    columns: dict[str, dict[str, str]] = {}
    for table, field, name in args.column:
        columns.setdefault(table, {})[field] = name
    return {table: getattr(args, table) for table in TABLES} | {"columns": columns}


def _read_csv(args: argparse.Namespace) -> TabularGraph:
    return read_csv_graph(sep=args.sep, encoding=args.encoding, **_files(args), **_options(args))


def _read_parquet(args: argparse.Namespace) -> TabularGraph:
    return read_parquet_graph(**_files(args), **_options(args))


def _read_movielens(args: argparse.Namespace) -> TabularGraph:
    return read_movielens(args.directory, format=args.format, **_options(args))


def _read_sample(args: argparse.Namespace) -> TabularGraph:
    from kgrec.loaders.synthetic import generate_sample  # imported only for this form

    return generate_sample(seed=args.seed, n_interactions=args.size)
