"""The ``kgrec`` command. Each area of the package registers its own subcommands; each
subcommand's function gets the parsed arguments and the :class:`~kgrec.settings.Settings` read
here, once, from the environment."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings

from tqdm.contrib.logging import logging_redirect_tqdm

from kgrec.errors import KgrecError

#: Modules that define ``register(subparsers)``; imported lazily so ``kgrec --help`` stays fast
#: and an area that is not installed yet does not break the others.
COMMAND_MODULES = (
    "kgrec.neo4j_server.commands",
    "kgrec.loaders.commands",
    "kgrec.engine.commands",
    "kgrec.serving.commands",
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
    configure_output(verbose=args.verbose)
    try:
        from kgrec.settings import read_settings  # here, not at the top: `kgrec --help` stays fast

        settings = read_settings()
        with logging_redirect_tqdm():
            return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        print("kgrec: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = error_message(exc)
        if message is None or args.verbose:
            raise
        print(f"kgrec: error: {message}", file=sys.stderr)
        return 2


def configure_output(*, verbose: bool) -> None:
    """Log lines for a person: kgrec's own progress at INFO; the Neo4j driver's chatter (its
    retry notices, e.g. after a deadlock it then resolved) only with ``--verbose``; warnings
    that are meant for library authors (torch.jit's deprecation) never."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("neo4j").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)


def error_message(exc: BaseException) -> str | None:
    """The one line ``kgrec`` prints for an error that is the user's to act on, or None for a
    bug (which keeps its traceback)."""
    import neo4j  # here, not at the top: `kgrec --help` stays fast

    if isinstance(exc, KgrecError):
        return str(exc)
    if isinstance(exc, neo4j.exceptions.TransientError):
        return (f"Neo4j could not finish a transaction ({exc.code}: {exc.message}), even after retrying. "
                "Another kgrec run or program is probably writing the same data: run the command again "
                "when it has finished")
    if isinstance(exc, neo4j.exceptions.AuthError):
        return ("Neo4j refused the user name or password: check NEO4J_USER / NEO4J_PASSWORD (or the local "
                "server's password file)")
    if isinstance(exc, (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)):
        return f"cannot reach Neo4j ({exc}); start it with `kgrec neo4j start`, or check NEO4J_URI"
    return None


if __name__ == "__main__":
    sys.exit(main())
