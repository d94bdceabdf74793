"""The shapes the API plans ahead (``kgrec.api.plan_warm_up``) against the queries themselves.

A parameter missing from an ``EXPLAIN`` is no error: Neo4j 5.26 plans the query and does not
cache the plan (notification ParameterNotProvided), so a warm-up whose shapes fell behind a
query would silently plan for nothing.
"""

from __future__ import annotations

import re

from kgrec import cypher
from kgrec.api.plan_warm_up import shapes

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _parameters(name: str) -> set[str]:
    code = "\n".join(line for line in cypher.load(name).splitlines() if not line.lstrip().startswith("//"))
    return set(_PARAMETER.findall(code))


def test_every_planned_query_is_given_exactly_the_parameters_it_uses():
    planned = list(shapes())
    assert {"explain", "recommendation_state", "recommendations", "record_interactions"} <= {n for n, _ in planned}
    mismatched = {name: sorted(set(params) ^ _parameters(name)) for name, params in planned
                  if set(params) != _parameters(name)}
    assert not mismatched, f"warm-up parameters differ from the queries' (name: differing names): {mismatched}"
