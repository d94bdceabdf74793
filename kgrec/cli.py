"""The ``kgrec`` command. Each area of the package registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from kgrec.neo4j_server.errors import ServerError

#: Modules that define ``register(subparsers)``; imported lazily so ``kgrec --help`` stays fast
#: and an area that is not installed yet does not break the others.
COMMAND_MODULES = (
    "kgrec.neo4j_server.commands",
    "kgrec.loaders.commands",
    "kgrec.engine.commands",
    "kgrec.cypher.commands",
    "kgrec.api.commands",
    "kgrec.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgrec",
        description="Explainable recommendations on a Neo4j knowledge graph: load, train a graph "
                    "attention network, write embeddings/attention back, recommend with explanation paths.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not an area that doesn't exist yet
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ServerError,) + _user_errors() as exc:
        print(f"kgrec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kgrec: interrupted", file=sys.stderr)
        return 130


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: printed as one message, never as a traceback."""
    from kgrec.config import ConfigurationError
    from kgrec.graph_schema import UnsafeIdentifierError

    from kgrec.loaders.errors import InputError
    from kgrec.loaders.writer import LoadError

    return (ConfigurationError, UnsafeIdentifierError, InputError, LoadError)


if __name__ == "__main__":
    sys.exit(main())
