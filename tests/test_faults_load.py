"""Fault test: a load killed half-way and run again ends exactly like a clean load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import wipe_database

pytestmark = pytest.mark.neo4j

SIZE = "60000"


def _counts(driver, database) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "CALL () { MATCH (n) RETURN labels(n)[0] AS kind, count(*) AS n "
        "UNION ALL MATCH ()-[r]->() RETURN type(r) AS kind, count(*) AS n } "
        "RETURN kind, n ORDER BY kind", database_=database)
    return {r["kind"]: r["n"] for r in records}


def _load(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kgrec.cli", "load", "sample", "--size", SIZE,
                             "--batch-size", "2000", "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killed_load_then_rerun_equals_clean_load(clean_db, neo4j_database, neo4j_settings):
    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": neo4j_settings.password,
           "NEO4J_USER": neo4j_settings.user, "NEO4J_DATABASE": neo4j_database}
    # Kill the first load as soon as some interactions are in, i.e. half-way through.
    first = _load(env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        n = _counts(clean_db, neo4j_database).get("INTERACTED", 0)
        if n > 0:
            break
        assert first.poll() is None, f"load ended before it could be interrupted: {first.stdout.read()}"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    partial = _counts(clean_db, neo4j_database)
    assert 0 < partial.get("INTERACTED", 0)

    rerun = _load(env)
    assert rerun.wait(timeout=300) == 0, rerun.stdout.read()
    after_rerun = _counts(clean_db, neo4j_database)

    wipe_database(clean_db, neo4j_database)
    clean = _load(env)
    assert clean.wait(timeout=300) == 0, clean.stdout.read()
    assert after_rerun == _counts(clean_db, neo4j_database)
    assert partial["INTERACTED"] < after_rerun["INTERACTED"], "the kill did not interrupt the load"
