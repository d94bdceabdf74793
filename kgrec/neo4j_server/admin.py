"""Neo4j's admin tool (``neo4j-admin``), run from the same jars as the server.

The tarball's ``bin/neo4j-admin`` script only sets ``NEO4J_HOME``/``NEO4J_CONF`` and calls
``org.neo4j.cli.AdminTool`` on the server's classpath; kgrec does the same, so the tool reads
the ``neo4j.conf`` kgrec writes and finds the server's data directory through it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kgrec.neo4j_server.errors import ServerError
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import Java

ADMIN_MAIN = "org.neo4j.cli.AdminTool"
#: a 1M-interaction import takes well under a minute here; allow for 100x that
IMPORT_TIMEOUT_S = 3 * 3600
#: Below this many rows the import runs with the JVM's quick compiler only: at 1M relationships
#: on two busy cores the optimising compiler's work cost more than it saved (10.6-11.2 s against
#: 14.9-18.7 s, alternating runs). Not measured above 1M here: bigger imports keep the JVM's
#: default, made for long runs.
QUICK_COMPILER_BELOW_ROWS = 10_000_000
#: how an import's files name nodes (``neo4j-admin database import full --id-type``)
IdType = Literal["string", "integer", "actual"]
#: database names as Neo4j accepts them; the name also becomes a folder name below ``data``
_DATABASE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
#: the message of each cause in a Java stack trace, and exception names repeated inside one
_CAUSE = re.compile(r"^Caused by: [\w.$]+: (.*)$", re.MULTILINE)
_NESTED_NAME = re.compile(r"^([\w.$]+(?:Exception|Error): )+")


def run_admin(layout: ServerLayout, args: Sequence[str], *, java: Java,
              jvm_flags: Sequence[str] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``neo4j-admin <args>`` for the server of ``layout`` on ``java``; the caller judges the exit code."""
    env = {**os.environ, "NEO4J_HOME": str(layout.server_home), "NEO4J_CONF": str(layout.conf_dir)}
    cmd = [str(java.executable), *jvm_flags, "-cp", f"{layout.lib_dir}/*", ADMIN_MAIN, *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=layout.server_home)


@dataclass(frozen=True)
class ImportSource:
    """One CSV file (header on its first line) of nodes with ``name`` as label, or of
    relationships with ``name`` as type."""

    name: str
    path: Path


def import_full(layout: ServerLayout, database: str, *, java: Java, nodes: Sequence[ImportSource],
                relationships: Sequence[ImportSource], array_delimiter: str, multiline: bool,
                report_file: Path, rows: int, id_type: IdType = "string") -> None:
    """``neo4j-admin database import full`` into ``database``, replacing its store files.

    The server must be stopped and the database known to be empty: ``--overwrite-destination``
    deletes what is there. A failed import leaves unusable store files behind (the tool says
    so), so they are removed: the server then starts with the database empty, as it was.
    Multiline fields are only enabled when a value needs them (they slow the importer down);
    ``rows`` (nodes + relationships) chooses the JVM's compilers. ``id_type`` is how the files'
    ``:ID``/``:START_ID``/``:END_ID`` columns name nodes (``actual``: the node ids themselves,
    dense from 0 in file order, so the importer needs no id map).

    Raises:
        ServerError: the tool failed; the message carries its reason.
    """
    check_database_name(database)
    args = ["database", "import", "full", database, "--overwrite-destination=true", "--verbose",
            f"--id-type={id_type}", f"--array-delimiter=U+{ord(array_delimiter):04X}", "--bad-tolerance=0",
            f"--multiline-fields={'true' if multiline else 'false'}", f"--report-file={report_file}"]
    args += [f"--nodes={source.name}={source.path}" for source in nodes]
    args += [f"--relationships={source.name}={source.path}" for source in relationships]
    try:
        quick = ["-XX:TieredStopAtLevel=1"] if rows < QUICK_COMPILER_BELOW_ROWS else []
        done = run_admin(layout, args, java=java, jvm_flags=quick, timeout=IMPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        remove_store(layout, database)
        raise ServerError(f"neo4j-admin database import ran over {IMPORT_TIMEOUT_S // 3600} h and was "
                          f"stopped; the database {database!r} was left empty") from exc
    if done.returncode != 0:
        remove_store(layout, database)
        raise ServerError(f"neo4j-admin database import failed ({_reason(done)}); the database "
                          f"{database!r} was left empty. Full report: {report_file}")


def remove_store(layout: ServerLayout, database: str) -> None:
    """Delete the store and transaction files of ``database`` (the server must be stopped); the
    server creates the database again, empty, at its next start."""
    for folder in _store_folders(layout, database):
        shutil.rmtree(folder, ignore_errors=True)


def store_exists(layout: ServerLayout, database: str) -> bool:
    """Whether ``database`` has any store or transaction files: a server that never started it
    (a new ``KGREC_HOME``) has none, so the database holds nothing."""
    return any(folder.exists() for folder in _store_folders(layout, database))


def _store_folders(layout: ServerLayout, database: str) -> tuple[Path, Path]:
    check_database_name(database)
    data = layout.server_home / "data"
    return data / "databases" / database, data / "transactions" / database


def check_database_name(database: str) -> str:
    """``database`` if it is a plain Neo4j database name: it becomes a path below ``data``."""
    if not _DATABASE_NAME.match(database) or database == "system":
        raise ServerError(f"{database!r} is not a user database name kgrec can import into; "
                          "use a lower-case name such as neo4j")
    return database


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    """The tool's most specific message: of the causes it prints with ``--verbose``, the longest
    once nested exception names are removed (the deepest is sometimes a bare value)."""
    causes = [_NESTED_NAME.sub("", cause).strip() for cause in _CAUSE.findall(done.stderr)]
    if causes:
        return max(causes, key=len)
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {done.returncode}"
