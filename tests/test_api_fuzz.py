"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

For generated valid and invalid requests: never a 5xx, and every response (errors included)
matches the documented status codes, headers and bodies. Bounded (few examples per route) so
the suite stays fast; raise ``FUZZ_EXAMPLES`` locally for a deeper run.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis

from kgrec.config import Neo4jSettings

from api_fixtures import READ_KEY, WRITE_KEY, build_app
from api_fixtures import api_graph  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.neo4j

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


BOUNDED = hypothesis.settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                              suppress_health_check=list(hypothesis.HealthCheck))
KEYS = {"api_key": WRITE_KEY}
GUARDED_KEYS = {"api_key": WRITE_KEY, "read_api_key": READ_KEY}


def _schema(**keys: str):
    """The OpenAPI document of an app with ``keys``, read at import time, before the test server
    (and its password) exists; this app's driver is never used, requests go to a fixture's app.
    Loaded eagerly: schemathesis' fixture-based lazy loading does not run under pytest 9."""
    nowhere = Neo4jSettings(uri="bolt://127.0.0.1:9", user="neo4j", password="unused", database="neo4j")
    return schemathesis.openapi.from_asgi("/openapi.json", build_app(nowhere, **keys))


open_reads, guarded_reads = _schema(**KEYS), _schema(**GUARDED_KEYS)


@pytest.fixture(scope="module")
def open_app(neo4j_settings):
    return build_app(neo4j_settings, **KEYS)


@pytest.fixture(scope="module")
def guarded_app(neo4j_settings):
    return build_app(neo4j_settings, **GUARDED_KEYS)


@open_reads.parametrize()
@BOUNDED
def test_api_conforms_to_its_schema(case, api_graph, open_app):
    case.call_and_validate(app=open_app, headers={"X-API-Key": WRITE_KEY})


@guarded_reads.parametrize()
@BOUNDED
def test_api_with_a_read_key_conforms_and_rejects_missing_keys(case, api_graph, guarded_app):
    case.call_and_validate(app=guarded_app, headers={"X-API-Key": READ_KEY})
