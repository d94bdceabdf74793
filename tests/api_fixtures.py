"""Fixtures for the API tests: a small graph with the docs/design.md schema, and apps over it.

The graph carries what the engine writes back (an active and a stale :Model, RECOMMENDED edges,
attention, embeddings and the item vector index) with hand-set values, so the expected answers
are known. Users: u1 has recommendations from the active model, u3 interacted but has none
(fallback from their category), u4 has no interactions (fallback from overall popularity).
Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx
import neo4j
import pytest
from fastapi import FastAPI
from conftest import create_hand_made_graph
from fastapi.testclient import TestClient

from kgrec.api.app import create_app
from kgrec.api.settings import ApiSettings
from kgrec.config import Neo4jSettings

WRITE_KEY = "test-write-key"
READ_KEY = "test-read-key"
#: the request budget of a test's app unless the test sets one: the tests here are about what the
#: API answers, not how fast, and without plans made ahead (see build_app) the first request of
#: each kind plans its queries within its budget: the explanation query took up to 9 s under load
TEST_REQUEST_TIMEOUT_S = 60.0

GRAPH = """
CREATE (drama:Category {id: 'drama', name: 'Drama'}), (comedy:Category {id: 'comedy', name: 'Comedy'}),
       (nolan:Person {id: 'nolan', name: 'Christopher Nolan'})
CREATE (memento:Item {id: 'memento', title: 'Memento', embedding: [1.0, 0.1, 0.0, 0.0]}),
       (inception:Item {id: 'inception', title: 'Inception', embedding: [0.9, 0.2, 0.1, 0.0]}),
       (tenet:Item {id: 'tenet', title: 'Tenet', embedding: [0.8, 0.1, 0.3, 0.0]}),
       (airplane:Item {id: 'airplane', title: 'Airplane!', embedding: [0.0, 1.0, 0.1, 0.0]}),
       (hotshots:Item {id: 'hotshots', title: 'Hot Shots!', embedding: [0.1, 0.9, 0.0, 0.2]}),
       (heat:Item {id: 'heat', title: 'Heat', embedding: [0.5, 0.5, 0.5, 0.5]})
CREATE (memento)-[:IN_CATEGORY {attention: 0.6}]->(drama), (inception)-[:IN_CATEGORY {attention: 0.5}]->(drama),
       (tenet)-[:IN_CATEGORY {attention: 0.5}]->(drama), (heat)-[:IN_CATEGORY {attention: 0.9}]->(drama),
       (airplane)-[:IN_CATEGORY {attention: 0.8}]->(comedy), (hotshots)-[:IN_CATEGORY {attention: 0.7}]->(comedy),
       (memento)-[:DIRECTED_BY {attention: 0.9}]->(nolan), (inception)-[:DIRECTED_BY {attention: 0.8}]->(nolan),
       (tenet)-[:DIRECTED_BY {attention: 0.7}]->(nolan)
CREATE (u1:User {id: 'u1'}), (u2:User {id: 'u2'}), (u3:User {id: 'u3'}), (:User {id: 'u4'})
CREATE (u1)-[:INTERACTED {weight: 5.0, rating: 5.0, ts: 1700000000, attention: 0.8}]->(memento),
       (u1)-[:INTERACTED {weight: 4.0, rating: 4.0, ts: 1700000100, attention: 0.4}]->(airplane),
       (u2)-[:INTERACTED {weight: 5.0, rating: 5.0, attention: 0.7}]->(memento),
       (u2)-[:INTERACTED {weight: 4.0, rating: 4.0, attention: 0.6}]->(inception),
       (u2)-[:INTERACTED {weight: 3.0, rating: 3.0, attention: 0.5}]->(tenet),
       (u3)-[:INTERACTED {weight: 4.0, rating: 4.0, attention: 1.0}]->(airplane)
CREATE (:Model {version: 'v2', active: true, trained_at: datetime('2026-11-01T10:00:00Z'),
                embedding_property: 'embedding', attention_property: 'attention',
                item_index: 'item_embedding', user_index: 'user_embedding',
                params: '{"dim": 4}', metrics: '{"ndcg@10": 0.42}'}),
       (:Model {version: 'v1', active: false})
CREATE (u1)-[:RECOMMENDED {model: 'v2', rank: 1, score: 0.93}]->(inception),
       (u1)-[:RECOMMENDED {model: 'v2', rank: 2, score: 0.71}]->(tenet),
       (u1)-[:RECOMMENDED {model: 'v2', rank: 3, score: 0.40}]->(hotshots),
       (u1)-[:RECOMMENDED {model: 'v1', rank: 1, score: 0.99}]->(heat),
       (u2)-[:RECOMMENDED {model: 'v2', rank: 1, score: 0.80}]->(heat)
"""


@pytest.fixture
def api_graph(clean_db: neo4j.Driver, neo4j_database: str) -> neo4j.Driver:
    create_hand_made_graph(clean_db, neo4j_database, GRAPH)
    return clean_db


def build_app(neo4j_settings: Neo4jSettings, *, plan_ahead: bool = False, **overrides: object) -> FastAPI:
    """An app on ``neo4j_settings`` with no keys and no language model (a fuzzed ``phrase=true``
    would load the bundled one), unless ``overrides`` say otherwise; explicit
    values win over any ``KGREC_*`` variables in the test environment. Queries are planned
    ahead only when ``plan_ahead``: each test rebuilds the schema, which drops Neo4j's plans, so
    every app would plan them all again for its few requests (40 API tests took 71 s instead of 30)."""
    values: dict[str, object] = {"api_key": None, "read_api_key": None, "request_timeout_s": TEST_REQUEST_TIMEOUT_S,
                                 "llm_enabled": False, **overrides}
    return create_app(ApiSettings(neo4j=neo4j_settings, **values), plan_ahead=plan_ahead)


@pytest.fixture
def make_client(neo4j_settings: Neo4jSettings) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)``: a started client (lifespan run) on the test server."""
    clients: list[TestClient] = []

    def make(neo4j: Neo4jSettings = neo4j_settings, **overrides: object) -> TestClient:
        client = TestClient(build_app(neo4j, **overrides), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(api_graph: neo4j.Driver, make_client: Callable[..., TestClient]) -> TestClient:
    """A client on the small graph, with a write key configured and reads open."""
    return make_client(api_key=WRITE_KEY)


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """Assert the stable error shape and return its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


def free_port() -> int:
    """A local port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
