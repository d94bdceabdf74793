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

from kgrec.api.app import create_app
from kgrec.api.settings import ApiSettings
from kgrec.config import Neo4jSettings

from api_fixtures import WRITE_KEY, build_app
from api_fixtures import api_graph  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.neo4j

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _schema_only_app():
    """The app, only to read its OpenAPI document at import time, before the test server (and
    its password) exists; its driver is never used. The requests go to :func:`fuzz_app`."""
    nowhere = Neo4jSettings(uri="bolt://127.0.0.1:9", user="neo4j", password="unused", database="neo4j")
    return create_app(ApiSettings(neo4j=nowhere))


# Loaded eagerly: schemathesis' fixture-based lazy loading does not run under pytest 9.
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_only_app())


@pytest.fixture(scope="module")
def fuzz_app(neo4j_settings):
    return build_app(neo4j_settings, api_key=WRITE_KEY)


@schema.parametrize()
@hypothesis.settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_api_conforms_to_its_schema(case, api_graph, fuzz_app):
    case.call_and_validate(app=fuzz_app, headers={"X-API-Key": WRITE_KEY})
