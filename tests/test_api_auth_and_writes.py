"""POST /v1/interactions and the API keys, over HTTP against the real server."""

from __future__ import annotations

import time

import pytest

from api_fixtures import READ_KEY, WRITE_KEY, assert_error
from api_fixtures import api_graph, client, make_client  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.neo4j

BATCH = {"interactions": [
    {"user_id": "u4", "item_id": "heat", "rating": 4.5, "ts": 1700000500},
    {"user_id": "newcomer", "item_id": "airplane", "weight": 2.0},
]}


def _interactions(driver, database, user_id):
    records, _, _ = driver.execute_query(
        "MATCH (:User {id: $u})-[r:INTERACTED]->(i:Item) RETURN i.id AS item, r.weight AS weight, "
        "r.rating AS rating, r.ts AS ts ORDER BY item", u=user_id, database_=database)
    return [dict(r) for r in records]


def test_recorded_interactions_are_committed_and_create_users(client, api_graph, neo4j_database):
    sent = int(time.time())
    response = client.post("/v1/interactions", json=BATCH, headers={"X-API-Key": WRITE_KEY})
    answered = int(time.time())
    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": 2}
    assert _interactions(api_graph, neo4j_database, "u4") == [
        {"item": "heat", "weight": 4.5, "rating": 4.5, "ts": 1700000500}]
    [recorded] = _interactions(api_graph, neo4j_database, "newcomer")
    assert {**recorded, "ts": None} == {"item": "airplane", "weight": 2.0, "rating": None, "ts": None}
    assert sent <= recorded["ts"] <= answered  # no ts given: the server's time when it was recorded
    # The new user is not in the model yet: a fallback, never an error, and nothing seen twice.
    body = client.get("/v1/users/newcomer/recommendations").json()
    assert body["strategy"] == "fallback" and body["items"][0]["item_id"] == "hotshots"
    assert "airplane" not in [i["item_id"] for i in body["items"]]


def test_recording_again_updates_rather_than_duplicates(client, api_graph, neo4j_database):
    for rating in (2.0, 3.0):
        batch = {"interactions": [{"user_id": "u3", "item_id": "airplane", "rating": rating}]}
        assert client.post("/v1/interactions", json=batch, headers={"X-API-Key": WRITE_KEY}).status_code == 200
    assert [r["rating"] for r in _interactions(api_graph, neo4j_database, "u3")] == [3.0]


def test_unknown_item_rejects_the_whole_batch_with_404(client, api_graph, neo4j_database):
    batch = {"interactions": [{"user_id": "u4", "item_id": "heat"}, {"user_id": "u4", "item_id": "ghost"}]}
    error = assert_error(client.post("/v1/interactions", json=batch, headers={"X-API-Key": WRITE_KEY}),
                   404, "unknown_item")
    assert error["details"] == {"item_ids": ["ghost"]}
    assert _interactions(api_graph, neo4j_database, "u4") == []


@pytest.mark.parametrize("body", [
    {}, {"interactions": []}, {"interactions": [{"user_id": "u1"}]},
    {"interactions": [{"user_id": "", "item_id": "heat"}]},
    {"interactions": [{"user_id": "u1", "item_id": "heat", "ts": -1}]},
    {"interactions": [{"user_id": "u1", "item_id": "heat", "rating": "NaN"}]},
    {"interactions": [{"user_id": "u1", "item_id": "heat"}] * 1001},
])
def test_invalid_batches_are_422(client, body):
    assert_error(client.post("/v1/interactions", json=body, headers={"X-API-Key": WRITE_KEY}), 422, "invalid_request")


def test_lone_surrogate_ids_are_422_not_500(client):
    raw = '{"interactions": [{"user_id": "\\ud800", "item_id": "heat"}]}'
    response = client.post("/v1/interactions", content=raw,
                           headers={"X-API-Key": WRITE_KEY, "Content-Type": "application/json"})
    assert_error(response, 422, "invalid_request")


def test_write_key_missing_is_401_and_wrong_is_403(client):
    response = client.post("/v1/interactions", json=BATCH)
    assert_error(response, 401, "missing_api_key")
    assert response.headers["WWW-Authenticate"] == "ApiKey"
    assert_error(client.post("/v1/interactions", json=BATCH, headers={"X-API-Key": "guess"}), 403, "invalid_api_key")
    assert_error(client.post("/v1/interactions", json=BATCH, headers={"X-API-Key": READ_KEY}), 403, "invalid_api_key")


def test_without_a_configured_write_key_writes_are_refused(api_graph, make_client):
    no_key = make_client()
    assert_error(no_key.post("/v1/interactions", json=BATCH, headers={"X-API-Key": "anything"}),
           403, "writes_disabled")
    assert no_key.get("/v1/users/u1/recommendations").status_code == 200  # reads stay open


def test_read_key_protects_reads_but_not_health(api_graph, make_client):
    guarded = make_client(api_key=WRITE_KEY, read_api_key=READ_KEY)
    for path in ("/v1/users/u1/recommendations", "/v1/items/memento/similar", "/v1/model",
                 "/v1/users/u1/recommendations/heat/explanation"):
        assert_error(guarded.get(path), 401, "missing_api_key")
        assert_error(guarded.get(path, headers={"X-API-Key": "guess"}), 403, "invalid_api_key")
        assert guarded.get(path, headers={"X-API-Key": READ_KEY}).status_code == 200
        assert guarded.get(path, headers={"X-API-Key": WRITE_KEY}).status_code == 200
    assert guarded.get("/healthz").status_code == 200 and guarded.get("/readyz").status_code == 200


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/v1/interactions", content=b"\xff{",
                           headers={"X-API-Key": WRITE_KEY, "Content-Type": "application/json"})
    assert_error(response, 400, "malformed_body")


def test_an_empty_configured_key_counts_as_no_key(api_graph, make_client):
    blank = make_client(api_key="  ", read_api_key="")
    assert_error(blank.post("/v1/interactions", json=BATCH, headers={"X-API-Key": ""}), 403, "writes_disabled")
    assert blank.get("/v1/model").status_code == 200
