"""``kgrec serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgrec.settings import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn  # imported here so `kgrec --help` stays fast

    # Fail now with one clear message (no Neo4j password; a bad KGREC_* value failed in
    # kgrec.cli.main already), not in each worker. The workers read the same environment.
    settings.neo4j
    uvicorn.run("kgrec.api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the HTTP API (OpenAPI docs at /docs)",
        description="Serve recommendations, explanations, similar items and feedback over HTTP. "
                    "Neo4j from NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD/NEO4J_DATABASE (or the local "
                    "server); KGREC_API_KEY enables writes, KGREC_READ_API_KEY protects reads.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default %(default)s; "
                                                           "0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8000, help="default %(default)s")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes, each with its own Neo4j driver (default %(default)s)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=_serve)
