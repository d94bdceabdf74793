"""Shared fixtures: one real Neo4j server per test session, a clean database per test.

The suite never touches the user's own local server (``kgrec neo4j start``): tests empty the
database they use. It runs a second local server of its own, in ``$KGREC_HOME/test`` (sharing the
downloaded jars) on the user's ports + 10000 (Bolt 17687, HTTP 17474 by default), started here
if it is not running and stopped at the end if this session started it. Set ``NEO4J_URI`` (and
``NEO4J_PASSWORD``) to run the suite against another server instead — it will be emptied.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from kgrec.config import Neo4jSettings, open_driver
from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.settings import read_settings

_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_]+$")


TEST_PORT_OFFSET = 10_000
#: the environment the suite was started with (KGREC_HOME, ports, heap; NEO4J_* for an external server)
SETTINGS = read_settings()
#: how long a test's threads may take to end after it (a request abandoned at its deadline
#: finishes within its transaction timeout) before the test fails for leaving them behind
THREAD_GRACE_S = 30.0
#: set NEO4J_URI to run the suite against another server (it will be emptied)
EXTERNAL_SERVER = bool(SETTINGS.neo4j_uri)


def _non_daemon_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread() and t.is_alive()}


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running: the interpreter waits for such a
    thread at exit, so one stuck in a request made pytest hang for an hour after its summary.
    Threads of a test should be daemons, stopped and joined (with a bound) in ``finally``."""
    before = _non_daemon_threads()
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    left = _non_daemon_threads() - before
    for thread in left:
        thread.join(max(deadline - time.monotonic(), 0.0))
    stuck = sorted(t.name for t in left if t.is_alive())
    if stuck:
        pytest.fail(f"the test left non-daemon threads running: {', '.join(stuck)}", pytrace=False)


_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the process once pytest is done even if a non-daemon thread still runs (a test that
    left one has already failed above): the interpreter would wait for it forever."""
    stuck = _non_daemon_threads()
    if stuck:
        print(f"\nnon-daemon threads still running: {', '.join(sorted(t.name for t in stuck))}; exiting anyway",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(max(_exit_status, 1))


def test_server_layout() -> ServerLayout:
    """The suite's own server: ``$KGREC_HOME/test`` on the user's ports + 10000."""
    return SETTINGS.layout.sibling("test", TEST_PORT_OFFSET)


@pytest.fixture(scope="session")
def neo4j_layout() -> Iterator[ServerLayout | None]:
    """The layout of the local server the suite uses (started on demand); None when the suite
    runs against an external server."""
    if EXTERNAL_SERVER:
        yield None
        return
    layout = test_server_layout()
    started_here = not lifecycle.status(layout).running
    lifecycle.start(layout, settings=SETTINGS)
    yield layout
    if started_here and not os.environ.get("KGREC_KEEP_NEO4J"):
        lifecycle.stop(layout)


@pytest.fixture(scope="session")
def neo4j_settings(neo4j_layout: ServerLayout | None) -> Neo4jSettings:
    """The suite's server. Also exported as NEO4J_* for the session, so that CLI calls made in
    process and child processes talk to it, never to the user's own server."""
    if neo4j_layout is None:
        return SETTINGS.neo4j
    settings = Neo4jSettings(uri=neo4j_layout.bolt_uri, user="neo4j",
                             password=neo4j_layout.password_file.read_text().strip(),
                             database=SETTINGS.neo4j_database or "neo4j")
    os.environ.update(NEO4J_URI=settings.uri, NEO4J_USER=settings.user, NEO4J_PASSWORD=settings.password,
                      NEO4J_DATABASE=settings.database)
    return settings


@pytest.fixture(scope="session")
def neo4j_database(neo4j_settings: Neo4jSettings) -> str:
    return neo4j_settings.database


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_settings: Neo4jSettings) -> Iterator[neo4j.Driver]:
    driver = open_driver(neo4j_settings)
    driver.verify_connectivity()
    yield driver
    driver.close()


def wipe_database(driver: neo4j.Driver, database: str) -> None:
    """Remove all data, indexes and constraints. Relationships go first, in batches: a
    ``DETACH DELETE`` of dense nodes can exceed the transaction memory cap of a small heap."""
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()
        # Dropping a constraint drops its backing index, so constraints go first.
        constraints = [r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name")]
        for name in constraints:
            assert _SCHEMA_NAME.match(name), name  # names come from the server; keep them plain
            session.run(f"DROP CONSTRAINT `{name}` IF EXISTS").consume()
        indexes = [r["name"] for r in session.run(
            "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name")]
        for name in indexes:
            assert _SCHEMA_NAME.match(name), name
            session.run(f"DROP INDEX `{name}` IF EXISTS").consume()


@pytest.fixture
def clean_db(neo4j_driver: neo4j.Driver, neo4j_database: str) -> neo4j.Driver:
    """The session's driver, on a database emptied of data, indexes and constraints."""
    wipe_database(neo4j_driver, neo4j_database)
    return neo4j_driver


def create_hand_made_graph(driver: neo4j.Driver, database: str, text: str) -> None:
    """Run ``text`` (CREATE statements of a small graph whose active :Model names plain
    ``embedding`` / ``attention`` properties and the ``item_embedding`` index), then build that
    4-d vector index and wait for it."""
    driver.execute_query(text, database_=database)
    driver.execute_query(
        "CREATE VECTOR INDEX item_embedding IF NOT EXISTS FOR (i:Item) ON i.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: 4, `vector.similarity_function`: 'cosine'}}",
        database_=database)
    driver.execute_query("CALL db.awaitIndexes(60)", database_=database)


@pytest.fixture
def movie_graph(clean_db: neo4j.Driver, neo4j_database: str) -> tuple[neo4j.Driver, str]:
    """A clean database holding ``data/movie_graph.cypher`` and its item vector index."""
    create_hand_made_graph(clean_db, neo4j_database, (Path(__file__).parent / "data" / "movie_graph.cypher").read_text())
    return clean_db, neo4j_database


def free_port() -> int:
    """A local port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def side_layout(tmp_path: Path, neo4j_layout: ServerLayout) -> Iterator[ServerLayout]:
    """A second, throwaway server home on free ports, sharing the session server's downloaded
    jars; for tests that must stop or crash a server. Stopped at the end if still running."""
    if neo4j_layout is None:
        pytest.skip("needs kgrec's local server (the suite runs against NEO4J_URI)")
    home = tmp_path / "kgrec-home"
    home.mkdir()
    (home / "dist").symlink_to(neo4j_layout.home / "dist")
    layout = ServerLayout(home=home, bolt_port=free_port(), http_port=free_port())
    yield layout
    lifecycle.stop(layout)
