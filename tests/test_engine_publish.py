"""One publish at a time per database, on the real server: two write-backs at once leave exactly
one whole active model; a held lock makes the second run wait and then fail with who holds it; a
lock left by a dead run is taken over; an incomplete model is never activated."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest
from test_engine_writeback import _one, fake_output, loaded  # noqa: F401  (pytest fixture)

from kgrec.config import open_driver
from kgrec.engine.neo4j.publish_lock import PublishLock, PublishLockedError
from kgrec.engine.neo4j.writeback import IncompleteModelError, SlotNames, WriteStats, _verify, write_model

pytestmark = pytest.mark.neo4j


def _assert_one_whole_active_model(driver, database, columns) -> str:
    """Exactly one :Model, active, with an embedding on every node, attention on every attended
    relationship and only its own RECOMMENDED edges; returns its version."""
    models = driver.execute_query("MATCH (m:Model) RETURN m.version AS version, m.active AS active, "
                                  "m.embedding_property AS e, m.attention_property AS a", database_=database).records
    assert len(models) == 1 and models[0]["active"], [dict(m) for m in models]
    version, embedding, attention = models[0]["version"], models[0]["e"], models[0]["a"]
    nodes = sum(len(ids) for ids in columns.node_ids.values())
    relationships = sum(len(head) for head, _ in columns.edges.values())
    assert _one(driver, database, f"MATCH (n) WHERE n.{embedding} IS NOT NULL RETURN count(n)") == nodes
    assert _one(driver, database, f"MATCH ()-[r]->() WHERE r.{attention} IS NOT NULL RETURN count(r)") == relationships
    assert _one(driver, database, "MATCH ()-[r:RECOMMENDED]->() RETURN collect(DISTINCT r.model)") == [version]
    return version


def test_two_write_backs_at_once_leave_exactly_one_whole_active_model(loaded, neo4j_settings):
    driver, database, columns = loaded
    write_model(driver, database, columns, fake_output(columns, "v0", seed=0), progress=False)
    start = threading.Barrier(2, timeout=120)  # a run that fails first must not strand the other
    errors: list[BaseException] = []

    def publish(version: str, seed: int) -> None:
        try:
            with open_driver(neo4j_settings) as own:  # each run has its own connections, as two processes do
                start.wait()
                write_model(own, database, columns, fake_output(columns, version, seed), batch_size=20,
                            progress=False)
        except BaseException as exc:  # reported below, with the other run's outcome
            errors.append(exc)

    runs = [threading.Thread(target=publish, args=(f"v{n}", n), daemon=True) for n in (1, 2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(600)
    assert not any(run.is_alive() for run in runs), "a write-back did not end"
    assert not errors, errors
    # Both published, one after the other: the last one is active, whole, and alone.
    assert _assert_one_whole_active_model(driver, database, columns) in {"v1", "v2"}
    assert _one(driver, database, "MATCH (l:PublishLock) RETURN count(l)") == 0


def test_a_held_lock_makes_the_second_publish_fail_naming_the_holder(loaded):
    driver, database, columns = loaded
    write_model(driver, database, columns, fake_output(columns, "v1", seed=1), progress=False)
    with PublishLock(driver, database):
        with pytest.raises(PublishLockedError, match=rf"pid {os.getpid()} on host .*; waited 0 s"):
            write_model(driver, database, columns, fake_output(columns, "v2", seed=2), progress=False,
                        lock_wait_s=0)
    assert _assert_one_whole_active_model(driver, database, columns) == "v1"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("holder", [
    pytest.param("host: $host, pid: $pid, heartbeat_at: datetime()", id="killed-process-on-this-host"),
    pytest.param("host: 'elsewhere', pid: 1, heartbeat_at: datetime() - duration('PT10M')", id="expired-heartbeat"),
])
def test_a_lock_left_by_a_dead_run_is_taken_over(loaded, holder):
    driver, database, columns = loaded
    driver.execute_query(f"CREATE (:PublishLock {{name: 'publish', owner: 'dead-run', started_at: datetime(), "
                         f"{holder}}})", host=socket.gethostname(), pid=_dead_pid(), database_=database)
    write_model(driver, database, columns, fake_output(columns, "v1", seed=1), progress=False, lock_wait_s=0)
    assert _assert_one_whole_active_model(driver, database, columns) == "v1"


def test_a_model_that_lost_part_of_its_slot_is_not_activated(loaded):
    driver, database, columns = loaded
    stats = write_model(driver, database, columns, fake_output(columns, "v1", seed=1), progress=False)
    # What the issue saw: another run's cleanup removed the slot's attention.
    driver.execute_query("MATCH ()-[r]->() WHERE r.attention_a IS NOT NULL SET r.attention_a = null",
                         database_=database)
    with pytest.raises(IncompleteModelError, match=rf"holds 0 of {stats.attention:,} attention"):
        _verify(driver, database, "v1", SlotNames("a"),
                WriteStats(stats.embeddings, stats.attention, stats.recommendations))
