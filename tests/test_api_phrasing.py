"""``?phrase=true`` on the real server: paths phrased by a language model behind an
OpenAI-compatible endpoint (a canned local server), verified, kept on the RECOMMENDED edges;
and the bundled model phrasing an explanation end to end (marked ``llm``; ``make test``
installs the extra, so CI runs it)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api_fixtures import api_graph, build_app  # noqa: F401  (pytest fixture)
from kgrec.serving.phrasing.backends import bundled_model_file
from phrasing_server import CannedChat, canned_chat_server

pytestmark = pytest.mark.neo4j


def _faithful_but_for_tenet(facts: str) -> str:
    """A faithful phrase of a co-interaction path, but a wrong count when it leads to Tenet."""
    rated = re.search(r"The user rated (.+) \((\S+) stars\)", facts)
    both = re.search(r"(\d+) other (?:person|people) rated both (.+) and (.+)\.", facts)
    count = "99" if both[3] == "Tenet" else both[1]
    return f"You gave {rated[1]} {rated[2]} stars, and {count} other people rated both {both[2]} and {both[3]}."


def _stored_phrases(driver, database, user: str) -> dict[str, dict]:
    records, _, _ = driver.execute_query(
        "MATCH (:User {id: $user})-[r:RECOMMENDED {model: 'v2'}]->(i:Item) RETURN i.id AS item, r.phrases AS phrases",
        user=user, database_=database)
    return {r["item"]: json.loads(r["phrases"]) for r in records if r["phrases"]}


def test_phrased_recommendations_show_verified_phrases_and_keep_them_on_the_edges(api_graph, neo4j_settings,
                                                                                neo4j_database):
    with canned_chat_server(CannedChat(_faithful_but_for_tenet)) as chat:
        app = build_app(neo4j_settings, llm_enabled=True, llm_url=chat.url, llm_model="canned", llm_budget_s=30.0)
        with TestClient(app) as client:
            body = client.get("/v1/users/u1/recommendations", params={"phrase": "true", "paths": 3, "k": 2}).json()
            asked = len(chat.requests)
            again = client.get("/v1/users/u1/recommendations", params={"phrase": "true", "paths": 3, "k": 2}).json()
    paths = {item["item_id"]: item["explanations"] for item in body["items"]}
    assert set(paths) == {"inception", "tenet"}
    for path in paths["inception"]:
        assert path["phrasing"] == "llm" and path["phrase"].startswith("You gave Memento 5 stars")
        assert path["phrased_by"] == f"openai:canned@{chat.url}" and path["phrasing_note"] is None
    for path in paths["tenet"]:
        assert path["phrasing"] == "template" and path["phrase"] is None
        assert path["phrasing_note"] == "the model's phrase was rejected: a number not in the facts: 99"
    stored = _stored_phrases(api_graph, neo4j_database, "u1")  # verdicts, accepted and rejected
    assert sorted(v["text"] for v in stored["inception"].values() if v["accepted"]) == \
        sorted(p["phrase"] for p in paths["inception"])
    rejected = list(stored["tenet"].values())
    assert rejected and all(not v["accepted"] and "99 other people" in v["text"] for v in rejected)
    assert all(v["reason"] == "a number not in the facts: 99" for v in rejected)
    assert len(chat.requests) == asked  # the second request asked the model nothing
    assert again["items"] == body["items"]


def test_phrase_on_an_explanation_and_without_a_model(api_graph, neo4j_settings, monkeypatch):
    with canned_chat_server(CannedChat(_faithful_but_for_tenet)) as chat:
        with TestClient(build_app(neo4j_settings, llm_enabled=True, llm_url=chat.url, llm_budget_s=30.0)) as client:
            body = client.get("/v1/users/u1/recommendations/inception/explanation", params={"phrase": "true"}).json()
    assert body["paths"] and all(p["phrasing"] == "llm" and "Inception" in p["phrase"] for p in body["paths"]), body
    monkeypatch.setattr("kgrec.serving.phrasing.backends.bundled_model_file", lambda: None)
    with TestClient(build_app(neo4j_settings, llm_enabled=True, llm_url=None)) as client:
        body = client.get("/v1/users/u1/recommendations", params={"phrase": "true", "k": 1}).json()
        plain = client.get("/v1/users/u1/recommendations", params={"explain": "true", "k": 1}).json()
    path = body["items"][0]["explanations"][0]
    assert path["phrasing"] == "template" and "KGREC_LLM_URL" in path["phrasing_note"] and path["sentence"]
    assert plain["items"][0]["explanations"][0]["phrasing"] is None


@pytest.mark.llm
@pytest.mark.skipif(bundled_model_file() is None, reason="the llm extra is not installed (make test installs it)")
def test_the_bundled_model_phrases_an_explanation_end_to_end(api_graph, neo4j_settings):
    with TestClient(build_app(neo4j_settings, llm_enabled=True, llm_url=None, llm_budget_s=600.0)) as client:
        body = client.get("/v1/users/u1/recommendations", params={"phrase": "true", "paths": 3}).json()
    paths = [p for item in body["items"] for p in item["explanations"]]
    phrased = [p for p in paths if p["phrasing"] == "llm"]
    assert phrased, [p["phrasing_note"] for p in paths]
    assert all(p["phrased_by"].startswith("bundled:SmolLM2") for p in phrased)
    assert all(p["phrasing_note"].startswith("the model's phrase was rejected") for p in paths if p not in phrased)
