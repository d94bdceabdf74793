"""Fault test: the API under a steady stream of requests while Neo4j is stopped and started.

A throwaway second server is really stopped (SIGTERM) and started again, while one client
keeps reading recommendations and another keeps writing interactions. Only 200s and 503s may
come back, none slower than the request timeout (plus scheduling slack), the service must
recover by itself, and every write acknowledged with a 2xx must be in the graph afterwards.

The server was just started (a new JVM), as on a machine's first run: the API must
plan its queries itself (``plan_ahead``), since requests with a 2 s budget cannot. The waits
for first answers and for recovery are bounded generously: how long a cold JVM takes depends on
the machine's load, and what is tested is that the service gets there by itself.
"""

from __future__ import annotations

import threading
import time

import pytest
from api_fixtures import GRAPH, WRITE_KEY, build_app
from fastapi.testclient import TestClient

from kgrec.config import Neo4jSettings, open_driver
from kgrec.neo4j_server import lifecycle

pytestmark = pytest.mark.neo4j

TIMEOUT_S = 2.0
SLACK_S = 1.5  # two streams share 2 cores with a JVM that is starting or stopping
#: bound on each wait for the service to answer (a cold JVM plans for tens of seconds under load)
PATIENCE_S = 240.0


def _stream(client: TestClient, kind: str, stop: threading.Event, log: list) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        started = time.monotonic()
        if kind == "read":
            response = client.get("/v1/users/u1/recommendations?explain=true&paths=2")
            user = None
        else:
            user = f"stream-{n}"
            response = client.post("/v1/interactions", headers={"X-API-Key": WRITE_KEY},
                                   json={"interactions": [{"user_id": user, "item_id": "memento", "rating": 4}]})
        log.append((kind, response.status_code, time.monotonic() - started, user, time.monotonic()))
        time.sleep(0.05)


def _wait_for(condition, what: str, timeout: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f} s"
        time.sleep(0.1)


def test_api_survives_neo4j_stop_and_start(side_layout):
    lifecycle.start(side_layout)
    settings = Neo4jSettings(uri=side_layout.bolt_uri, user="neo4j",
                             password=side_layout.password_file.read_text().strip(), database="neo4j")
    with open_driver(settings) as driver:
        driver.execute_query(GRAPH, database_="neo4j")

    log: list = []
    stop = threading.Event()
    with TestClient(build_app(settings, plan_ahead=True, api_key=WRITE_KEY, request_timeout_s=TIMEOUT_S),
                    raise_server_exceptions=False) as client:
        # Daemon threads, stopped in `finally`: a failed wait must end the test, not leave them
        # posting through a client whose event loop is gone.
        streams = [threading.Thread(target=_stream, args=(client, kind, stop, log), daemon=True)
                   for kind in ("read", "write")]
        try:
            for thread in streams:
                thread.start()
            _wait_for(lambda: {e[0] for e in log if e[1] == 200} == {"read", "write"}, "first answers")
            outage_began = time.monotonic()
            lifecycle.stop(side_layout)
            time.sleep(1.0)
            lifecycle.start(side_layout)
            back = time.monotonic()
            _wait_for(lambda: {e[0] for e in log if e[1] == 200 and e[4] > back} == {"read", "write"}, "recovery")
        finally:
            stop.set()
            for thread in streams:
                thread.join(timeout=TIMEOUT_S + 30)
        assert not any(thread.is_alive() for thread in streams), "a request stream did not end"

    statuses = {entry[1] for entry in log}
    assert statuses <= {200, 503}, f"unexpected statuses: {statuses}"
    assert 503 in statuses, "the outage was not observed"
    slowest = max(entry[2] for entry in log)
    assert slowest < TIMEOUT_S + SLACK_S, f"a request took {slowest:.1f} s"
    # Before the outage both streams were served (waited for above); during it, 503s; after it:
    after = [e for e in log if e[4] > back]
    assert any(e[1] == 503 for e in log if outage_began < e[4] < back)
    assert any(e[1] == 200 for e in after if e[0] == "read") and any(e[1] == 200 for e in after if e[0] == "write")

    acknowledged = sorted(e[3] for e in log if e[0] == "write" and e[1] == 200)
    with open_driver(settings) as driver:
        records, _, _ = driver.execute_query(
            "UNWIND $users AS uid MATCH (:User {id: uid})-[:INTERACTED]->(:Item {id: 'memento'}) "
            "RETURN collect(uid) AS found", users=acknowledged, database_="neo4j")
    assert sorted(records[0]["found"]) == acknowledged
