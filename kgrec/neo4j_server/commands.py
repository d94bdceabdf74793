"""``kgrec neo4j start | stop | status``: the local server for people without Docker."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.layout import ServerLayout

if TYPE_CHECKING:
    from kgrec.settings import Settings


def _describe(layout: ServerLayout) -> str:
    return (f"  Bolt URI:       {layout.bolt_uri}\n"
            f"  Neo4j Browser:  {layout.browser_url}\n"
            f"  user:           neo4j\n"
            f"  password file:  {layout.password_file}\n"
            f"  log:            {layout.log_file}")


def _start(args: argparse.Namespace, settings: Settings) -> int:
    layout = settings.layout
    before = lifecycle.status(layout)
    started = time.monotonic()
    state = lifecycle.start(layout, timeout=args.timeout, settings=settings)
    verb = "already running" if before.running else f"started in {time.monotonic() - started:.1f} s"
    print(f"Neo4j {layout.version} {verb} (pid {state.pid})\n{_describe(layout)}")
    return 0


def _stop(args: argparse.Namespace, settings: Settings) -> int:
    layout = settings.layout
    started = time.monotonic()
    if lifecycle.stop(layout):
        print(f"Neo4j stopped in {time.monotonic() - started:.1f} s")
    else:
        print("Neo4j was not running")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    layout = settings.layout
    state = lifecycle.status(layout)
    if state.stale_pid_file:
        print("Neo4j is not running (removed a stale pid file left by a crash)", file=sys.stderr)
    if not state.running:
        print("Neo4j is not running")
        return 3
    ready = "answering on Bolt" if state.bolt_ready else "starting (Bolt not answering yet)"
    print(f"Neo4j {layout.version} is running (pid {state.pid}), {ready}\n{_describe(layout)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "neo4j", help="run a local Neo4j 5.26 server (fetched from Maven Central; needs Java 17+ and Maven)",
        description="Manage the local Neo4j server kgrec runs without Docker. Its files live in "
                    "KGREC_HOME (default ~/.local/share/kgrec); ports: KGREC_BOLT_PORT, KGREC_HTTP_PORT.")
    actions = parser.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="fetch (first time), configure and start the server; wait for Bolt")
    start.add_argument("--timeout", type=float, default=lifecycle.START_TIMEOUT_S,
                       help="seconds to wait for Bolt to answer (default %(default)s)")
    start.set_defaults(func=_start)
    actions.add_parser("stop", help="stop the server cleanly").set_defaults(func=_stop)
    actions.add_parser("status", help="exit 0 if running, 3 if not").set_defaults(func=_status)
