"""Every read route over HTTP against the real server, on the small graph of api_fixtures."""

from __future__ import annotations

import pytest

from api_fixtures import assert_error
from api_fixtures import api_graph, client, make_client  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.neo4j


def test_recommendations_come_from_the_active_model_in_rank_order(client):
    body = client.get("/v1/users/u1/recommendations").json()
    assert body["strategy"] == "model" and body["model"] == "v2" and body["user_id"] == "u1"
    assert [(i["item_id"], i["rank"], i["model"]) for i in body["items"]] == [
        ("inception", 1, "v2"), ("tenet", 2, "v2"), ("hotshots", 3, "v2")]  # not v1's 'heat'
    assert body["items"][0]["title"] == "Inception" and body["items"][0]["score"] == pytest.approx(0.93)
    assert all(i["explanations"] is None for i in body["items"])
    assert [i["item_id"] for i in client.get("/v1/users/u1/recommendations?k=1").json()["items"]] == ["inception"]


def test_recommendations_with_explanations_give_paths_from_user_to_item(client):
    body = client.get("/v1/users/u1/recommendations", params={"explain": "true", "paths": 2}).json()
    for item in body["items"]:
        assert 1 <= len(item["explanations"]) <= 2, item
        for path in item["explanations"]:
            assert path["nodes"][0]["id"] == "u1" and path["nodes"][-1]["id"] == item["item_id"]
            assert path["sentence"] and len(path["relationships"]) == len(path["nodes"]) - 1
            assert all(r["type"] != "RECOMMENDED" for r in path["relationships"])
        weights = [p["weight"] for p in item["explanations"]]
        assert weights == sorted(weights, reverse=True)


def test_user_without_recommendations_gets_fallback_from_their_categories(client):
    body = client.get("/v1/users/u3/recommendations?k=3").json()
    assert body["strategy"] == "fallback" and body["model"] is None
    ids = [i["item_id"] for i in body["items"]]
    assert ids[0] == "hotshots"  # the unseen comedy comes before popular items elsewhere
    assert "airplane" not in ids and len(ids) == 3


def test_user_without_interactions_gets_overall_popularity(client):
    body = client.get("/v1/users/u4/recommendations?k=2&explain=true").json()
    assert body["strategy"] == "fallback"
    assert [i["item_id"] for i in body["items"]] == ["airplane", "memento"]


def test_explanation_of_a_recommended_item(client):
    body = client.get("/v1/users/u1/recommendations/inception/explanation?paths=3").json()
    assert body["in_top_k"] is True and body["rank"] == 1 and body["model"] == "v2"
    assert body["score"] == pytest.approx(0.93)
    assert 1 <= len(body["paths"]) <= 3
    shapes = {p["shape"] for p in body["paths"]}
    assert shapes & {"shared_entity", "co_interaction"}


def test_explanation_of_an_item_outside_the_top_k_says_so_and_still_gives_paths(client):
    body = client.get("/v1/users/u1/recommendations/heat/explanation").json()
    assert body["in_top_k"] is False and body["rank"] is None and body["score"] is None
    assert body["paths"] and body["paths"][0]["nodes"][-1]["id"] == "heat"  # via Drama


def test_similar_items_with_what_connects_them(client):
    body = client.get("/v1/items/memento/similar?k=2").json()
    assert body["item_id"] == "memento"
    assert [i["item_id"] for i in body["items"]] == ["inception", "tenet"]
    shared = {n["id"] for n in body["items"][0]["shared"]}
    assert shared == {"drama", "nolan"}


def test_model_and_readiness(client):
    model = client.get("/v1/model").json()
    assert set(model) == {"version", "trained_at", "params", "metrics"}  # provenance only: no paths, slots
    assert model["version"] == "v2" and model["metrics"] == {"ndcg@10": 0.42}
    assert model["trained_at"].startswith("2026-11-01")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model": "v2"}


def test_without_an_active_model_readyz_is_503_and_model_404(client, api_graph, neo4j_database):
    api_graph.execute_query("MATCH (m:Model) SET m.active = false", database_=neo4j_database)
    response = client.get("/readyz")
    assert_error(response, 503, "no_active_model")
    assert int(response.headers["Retry-After"]) >= 1
    assert_error(client.get("/v1/model"), 404, "no_active_model")
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("path, code", [
    ("/v1/users/nobody/recommendations", "unknown_user"),
    ("/v1/users/nobody/recommendations/memento/explanation", "unknown_user"),
    ("/v1/users/u1/recommendations/nothing/explanation", "unknown_item"),
    ("/v1/items/nothing/similar", "unknown_item"),
    ("/v1/nothing", "not_found"),
])
def test_unknown_things_are_404(client, path, code):
    assert_error(client.get(path), 404, code)


@pytest.mark.parametrize("query", [
    "k=0", "k=101", "k=ten", "paths=0", "paths=11", "explain=maybe", "k=-1",
])
def test_bad_parameters_are_422_naming_the_parameter(client, query):
    error = assert_error(client.get(f"/v1/users/u1/recommendations?{query}"), 422, "invalid_request")
    assert error["details"][0]["loc"] == ["query", query.split("=")[0]]


def test_explanation_and_similar_limits_are_422(client):
    assert_error(client.get("/v1/users/u1/recommendations/memento/explanation?paths=11"), 422, "invalid_request")
    assert_error(client.get("/v1/items/memento/similar?k=101"), 422, "invalid_request")
    assert_error(client.get(f"/v1/users/{'x' * 257}/recommendations"), 422, "invalid_request")


def test_wrong_method_is_405_in_the_same_shape(client):
    assert_error(client.delete("/v1/model"), 405, "method_not_allowed")


def test_openapi_documents_routes_limits_and_error_shape(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    recs = schema["paths"]["/v1/users/{user_id}/recommendations"]["get"]
    k = next(p for p in recs["parameters"] if p["name"] == "k")
    assert k["schema"]["maximum"] == 100
    assert recs["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "Retry-After" in recs["responses"]["503"]["headers"]
    ts = schema["components"]["schemas"]["InteractionIn"]["properties"]["ts"]
    assert "the server's current time" in ts["description"]
