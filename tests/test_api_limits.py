"""What one request may cost: a body limit enforced before the body is read (413), and a
deadline that Neo4j itself enforces, so a request answered 503 leaves no work behind in the
database; and /metrics, which counts all of it."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from api_fixtures import WRITE_KEY, assert_error, free_port
from api_fixtures import api_graph, client, make_client  # noqa: F401  (pytest fixtures)
from kgrec.api.schemas import MAX_BATCH, MAX_ID_LENGTH
from kgrec.api.settings import ApiSettings

pytestmark = pytest.mark.neo4j

LIMIT = 4096


def _body(size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes."""
    head, tail = b'{"interactions": [{"user_id": "u1", "item_id": "heat", "pad": "', b'"}]}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_a_body_over_the_limit_is_413_before_the_key_check_or_parsing(api_graph, make_client):
    client = make_client(api_key=WRITE_KEY, max_body_bytes=LIMIT)
    headers = {"Content-Type": "application/json"}
    error = assert_error(client.post("/v1/interactions", content=_body(LIMIT + 1), headers=headers),
                         413, "body_too_large")
    assert f"{LIMIT:,} bytes" in error["message"]
    # Without a Content-Length (chunked), it is cut off as soon as it passes the limit.
    chunks = iter([_body(LIMIT + 1)[:LIMIT // 2], _body(LIMIT + 1)[LIMIT // 2:]])
    assert_error(client.post("/v1/interactions", content=chunks, headers=headers), 413, "body_too_large")
    # At the limit, the request goes on to the key check and the route.
    assert_error(client.post("/v1/interactions", content=_body(LIMIT), headers=headers), 401, "missing_api_key")
    ok = client.post("/v1/interactions", content=_body(LIMIT), headers={**headers, "X-API-Key": WRITE_KEY})
    assert ok.status_code == 200, ok.text


def test_the_default_limit_fits_the_largest_valid_batch():
    row = f'{{"user_id": "{"u" * MAX_ID_LENGTH}", "item_id": "{"i" * MAX_ID_LENGTH}", "rating": 4.5, ' \
          f'"weight": 4.5, "ts": 1700000000}}'
    largest = len(f'{{"interactions": [{", ".join([row] * MAX_BATCH)}]}}'.encode())
    assert largest <= ApiSettings.model_fields["max_body_bytes"].default


def _api_transactions(driver, database) -> list[str]:
    records, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery STARTS WITH '// record_interactions' "
        "RETURN currentQuery", database_=database)
    return [r["currentQuery"] for r in records]


def test_a_write_stuck_on_a_lock_is_ended_in_neo4j_when_the_client_is_answered_503(api_graph, make_client,
                                                                                    neo4j_database):
    """Before, the API answered 503 but its transaction went on waiting in Neo4j, and committed
    the batch once the lock was released: a write the client was told had failed."""
    client = make_client(api_key=WRITE_KEY, request_timeout_s=1.0)
    locked, release = threading.Event(), threading.Event()

    def hold_lock_on_u1() -> None:
        with api_graph.session(database=neo4j_database) as session, session.begin_transaction() as tx:
            tx.run("MATCH (u:User {id: 'u1'}) SET u.busy = true").consume()
            locked.set()
            release.wait(60)
            tx.rollback()

    holder = threading.Thread(target=hold_lock_on_u1, daemon=True)
    holder.start()
    try:
        assert locked.wait(30)
        batch = {"interactions": [{"user_id": "u1", "item_id": "heat", "rating": 1.0}]}
        assert_error(client.post("/v1/interactions", json=batch, headers={"X-API-Key": WRITE_KEY}),
                     503, "neo4j_timeout")
        deadline = time.monotonic() + 20  # Neo4j checks transaction timeouts every couple of seconds
        while _api_transactions(api_graph, neo4j_database) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _api_transactions(api_graph, neo4j_database) == []
    finally:
        release.set()
        holder.join(30)
    assert not holder.is_alive(), "the lock holder did not end"
    time.sleep(1.0)  # a transaction still waiting would commit now that the lock is free
    records, _, _ = api_graph.execute_query("MATCH (:User {id: 'u1'})-[r:INTERACTED]->(:Item {id: 'heat'}) "
                                            "RETURN count(r) AS n", database_=neo4j_database)
    assert records[0]["n"] == 0


def _samples(text: str, name: str) -> dict[str, float]:
    """``{'labels': value}`` of one metric in the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name):].rsplit(" ", 1)
            found[labels] = float(value)
    return found


def test_metrics_count_requests_by_route_and_status_and_name_the_active_model(client):
    client.get("/v1/users/u1/recommendations")
    client.get("/v1/users/u1/recommendations")
    client.get("/v1/users/nobody/recommendations")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    counts = _samples(response.text, "kgrec_http_requests_total")
    route = "/v1/users/{user_id}/recommendations"
    assert counts[f'{{method="GET",route="{route}",status="200"}}'] == 2
    assert counts[f'{{method="GET",route="{route}",status="404"}}'] == 1
    assert counts['{method="GET",route="<unmatched>",status="404"}'] == 1
    latency = _samples(response.text, "kgrec_http_request_duration_seconds_count")
    assert latency[f'{{method="GET",route="{route}",status="200"}}'] == 2
    assert _samples(response.text, "kgrec_active_model_info") == {'{version="v2"}': 1.0}


def test_metrics_count_neo4j_errors_and_still_answer_while_neo4j_is_down(neo4j_settings, make_client):
    client = make_client(dataclasses.replace(neo4j_settings, uri=f"bolt://127.0.0.1:{free_port()}"),
                         request_timeout_s=2.0)
    assert_error(client.get("/v1/model"), 503, "neo4j_unavailable")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert _samples(response.text, "kgrec_neo4j_errors_total") == {'{code="neo4j_unavailable"}': 2.0}
    assert _samples(response.text, "kgrec_active_model_info") == {}
