"""``kgrec demo``: the end-to-end walk-through on the bundled sample (the README's main command)."""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from collections.abc import Iterator

from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.layout import ServerLayout


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Print one progress line per stage, with its time."""
    print(f"==> {name} ...", flush=True)
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def run_demo(args: argparse.Namespace) -> int:
    layout = ServerLayout.from_env()
    with stage("Starting the local Neo4j server"):
        state = lifecycle.start(layout)
    print(f"\nNeo4j is up (pid {state.pid}).\n"
          f"  Bolt:          {layout.bolt_uri}\n"
          f"  Neo4j Browser: {layout.browser_url}  (user neo4j, password in {layout.password_file})\n"
          f"  Stop it with:  kgrec neo4j stop")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the end-to-end demo on the bundled sample data")
    parser.set_defaults(func=run_demo)
