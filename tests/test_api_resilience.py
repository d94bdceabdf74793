"""Neo4j outages and unexpected errors: honest 503s, no hangs, no traces, recovery by itself.

The shared test server is never stopped: outages are simulated by a TCP proxy in front of it,
or by pointing an app at a port where nothing listens.
"""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import urlsplit

import neo4j.exceptions
import pytest

from api_fixtures import assert_error, free_port
from api_fixtures import api_graph, make_client  # noqa: F401  (pytest fixtures)
from kgrec.api.deps import get_neo4j
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.neo4j

TIMEOUT_S = 2.0
RECS = "/v1/users/u1/recommendations?explain=true"


def _via(neo4j_settings, port: int):
    return dataclasses.replace(neo4j_settings, uri=f"bolt://127.0.0.1:{port}")


def _assert_503_in_time(client, path: str) -> str:
    started = time.monotonic()
    response = client.get(path)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert elapsed < TIMEOUT_S + 0.5, f"{path} took {elapsed:.2f} s"
    return response.json()["error"]["code"]


def test_unreachable_neo4j_is_503_with_retry_after(neo4j_settings, make_client):
    client = make_client(_via(neo4j_settings, free_port()), request_timeout_s=TIMEOUT_S)
    assert _assert_503_in_time(client, RECS) == "neo4j_unavailable"
    assert _assert_503_in_time(client, "/readyz") == "neo4j_unavailable"
    assert client.get("/healthz").status_code == 200


def test_neo4j_going_away_mid_test_then_coming_back(api_graph, neo4j_settings, make_client):
    # The schema was just rebuilt, which drops Neo4j's plans; planning the explanation query can
    # take longer than TIMEOUT_S on a busy machine. This test is about the outage: the plans are
    # made first, by a client with the tests' generous budget.
    assert make_client().get(RECS).status_code == 200
    target = urlsplit(neo4j_settings.uri).port
    with TcpProxy(target) as proxy:
        client = make_client(_via(neo4j_settings, proxy.port), request_timeout_s=TIMEOUT_S)
        assert client.get(RECS).status_code == 200
        proxy.cut()
        assert _assert_503_in_time(client, RECS) == "neo4j_unavailable"
        assert _assert_503_in_time(client, "/readyz") == "neo4j_unavailable"
        proxy.restore()
        # No restart, no warm-up: the first request after the outage is served.
        assert client.get(RECS).status_code == 200
        assert client.get("/readyz").status_code == 200


def test_hanging_neo4j_is_answered_by_the_request_timeout(neo4j_settings, make_client):
    with TcpProxy(urlsplit(neo4j_settings.uri).port) as proxy:
        proxy.hang = True
        client = make_client(_via(neo4j_settings, proxy.port), request_timeout_s=TIMEOUT_S)
        assert _assert_503_in_time(client, RECS) in {"neo4j_timeout", "neo4j_unavailable"}


def _failing_with(make_client, error: Exception):
    client = make_client()

    def broken():
        raise error

    client.app.dependency_overrides[get_neo4j] = broken
    return client.get("/v1/model")


def test_unexpected_error_is_a_json_500_without_details(make_client):
    error = assert_error(_failing_with(make_client, RuntimeError("secret internals")), 500, "internal_error")
    assert "secret" not in error["message"] and "reference" in error["message"]


@pytest.mark.parametrize("error", [neo4j.exceptions.TransientError("deadlock"),
                                   neo4j.exceptions.DatabaseUnavailable(),
                                   neo4j.exceptions.SessionExpired("gone")])
def test_transient_neo4j_failures_are_503_with_retry_after(make_client, error):
    response = _failing_with(make_client, error)
    assert_error(response, 503, "neo4j_unavailable")
    assert "Retry-After" in response.headers
