"""What the ``kgrec`` command prints, run as a person runs it (a subprocess) on the real server:
a first run on an empty database shows progress and results, never a warning or query text;
every error the user can fix is one ``kgrec: error:`` line (exit code 2), with its traceback
only under ``--verbose``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import neo4j
import pytest

from kgrec.cli import error_message

pytestmark = pytest.mark.neo4j

#: what must never reach a person's terminal in a normal run
NOISE = ("warning", "notification", "MATCH", "MERGE", "Traceback", "retried", "it/s]")


@pytest.fixture
def kgrec(neo4j_settings, tmp_path):
    """``kgrec(*args)``: run the command on the suite's server, with its own KGREC_HOME (models)."""
    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_USER": neo4j_settings.user,
           "NEO4J_PASSWORD": neo4j_settings.password, "NEO4J_DATABASE": neo4j_settings.database,
           "KGREC_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kgrec.cli", *args], capture_output=True, text=True,
                              env=env, timeout=600, cwd=tmp_path)

    return run


def _assert_quiet(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stderr
    for text in NOISE:
        assert text.lower() not in (done.stdout + done.stderr).lower(), f"{text!r} in:\n{done.stdout}{done.stderr}"


def _assert_one_line_error(done: subprocess.CompletedProcess, *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()  # progress lines may come first
    assert lines[-1].startswith("kgrec: error: ") and "Traceback" not in done.stderr, done.stderr
    assert all(line.startswith(("kgrec: error: ", "20")) for line in lines), done.stderr
    for text in expected:
        assert text in lines[-1]


def test_first_run_on_an_empty_database_is_quiet_and_a_changed_graph_is_one_message(kgrec, clean_db,
                                                                                    neo4j_database):
    _assert_one_line_error(kgrec("eval", "--explanations", "--users", "3"), "no active model", "kgrec train")
    for step in (["load", "sample", "--size", "1500"], ["train"], ["explain", "--store"],
                 ["recommend", "--user", "u1", "--k", "3"]):
        _assert_quiet(kgrec(*step))
    clean_db.execute_query("MATCH (i:Item {id: 'i1'}) CREATE (:User {id: 'newcomer'})-[:INTERACTED {weight: 1.0}]->(i)",
                           database_=neo4j_database)
    _assert_one_line_error(kgrec("eval", "--explanations", "--users", "3"), "trained on another graph", "kgrec train")


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("case", ["empty-file", "huge-timestamp", "rejected-label", "node-without-id"])
def test_input_errors_are_one_line_naming_where(kgrec, clean_db, neo4j_database, tmp_path, case):
    if case == "empty-file":
        done = kgrec("load", "csv", "--interactions", _write(tmp_path / "empty.csv", ""))
        expected = ["empty.csv, line 1", "the interactions file is empty"]
    elif case == "huge-timestamp":
        path = _write(tmp_path / "ratings.csv", "user_id,item_id,ts\nu1,i1,9223372036854775808\n")
        done = kgrec("load", "csv", "--interactions", path, "--on-unknown", "create")
        expected = ["ratings.csv, line 2, field 'ts'", "64-bit integer"]
    elif case == "rejected-label":
        path = _write(tmp_path / "triples.csv", "head_label,head_id,relation,tail_label,tail_id\n"
                                                "Item,i1,DIRECTED_BY,the director,p1\n")
        done = kgrec("load", "csv", "--triples", path, "--on-unknown", "create")
        expected = ["triples.csv, line 2, field 'tail_label'", "not an allowed node label"]
    else:
        clean_db.execute_query("CREATE (:User)-[:INTERACTED {weight: 1.0}]->(:Item {id: 'i1'})",
                               database_=neo4j_database)
        done = kgrec("train")
        expected = [":User node(s)", "no `id` property", "WHERE n.id IS NULL"]
    _assert_one_line_error(done, *expected)
    assert clean_db.execute_query("MATCH (n) WHERE NOT n:Item RETURN count(n) AS n",
                                  database_=neo4j_database).records[0]["n"] == int(case == "node-without-id")


def test_device_cpu_runs_and_cuda_without_a_gpu_is_one_line(kgrec):
    done = kgrec("eval", "--sample", "300", "--methods", "attention", "ease", "--device", "cpu")
    _assert_quiet(done)
    assert "attention" in done.stdout and "ease" in done.stdout
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda is valid here")
    for command in ("train", "eval"):
        _assert_one_line_error(kgrec(command, "--device", "cuda"), "--device cuda: no CUDA GPU available",
                               "use --device cpu")


def test_an_option_the_model_does_not_read_is_one_line_naming_the_ones_it_reads(kgrec):
    reads = "it reads: lambdas, knowledge_shares, inner_holdout, steps, users_per_step, negatives, dim"
    _assert_one_line_error(kgrec("train", "--epochs", "5"), "model 'attention' does not read epochs", reads)
    _assert_one_line_error(kgrec("train", "--set", "fanouts=10,5", "--set", "patience=2"),
                           "model 'attention' does not read fanouts, patience", reads)
    _assert_one_line_error(kgrec("train", "--model", "kgat", "--set", "steps=5"), "model 'kgat' does not read steps")
    _assert_one_line_error(kgrec("eval", "--sample", "50", "--methods", "ease", "popularity", "--set", "epochs=3"),
                           "no compared model reads epochs", "ease reads lambdas, default_lambda",
                           "popularity reads no options")


def test_usage_errors_exit_with_2(kgrec):
    """What the README promises for every error the user can fix: an unknown model, a command
    missing what it works on."""
    _assert_one_line_error(kgrec("eval", "--sample", "20", "--methods", "popularity", "nope"),
                           "unknown model 'nope'; the registered models are attention, kgat")
    done = kgrec("explain", "--k", "3")
    assert done.returncode == 2 and "one of the arguments --user --store is required" in done.stderr


def test_verbose_shows_the_traceback(kgrec, tmp_path):
    done = kgrec("--verbose", "load", "csv", "--interactions", _write(tmp_path / "empty.csv", ""))
    assert done.returncode != 0 and "Traceback" in done.stderr and "is empty" in done.stderr


def test_a_deadlock_the_driver_gave_up_on_is_explained(clean_db, neo4j_database):
    """Two transactions lock two nodes in opposite orders: Neo4j kills one with DeadlockDetected."""
    clean_db.execute_query("CREATE (:User {id: 'a'}), (:User {id: 'b'})", database_=neo4j_database)
    both_hold_one = threading.Barrier(2, timeout=60)  # a run that fails first must not strand the other
    failures: list[neo4j.exceptions.Neo4jError] = []

    def lock(first: str, second: str) -> None:
        with clean_db.session(database=neo4j_database) as session:
            tx = session.begin_transaction()  # explicit: the driver's retry would hide the deadlock
            try:
                tx.run("MATCH (u:User {id: $id}) SET u.touched = true", id=first).consume()
                both_hold_one.wait()
                tx.run("MATCH (u:User {id: $id}) SET u.touched = true", id=second).consume()
            except neo4j.exceptions.TransientError as exc:
                failures.append(exc)
            finally:
                tx.close()  # rolls back

    runs = [threading.Thread(target=lock, args=pair, daemon=True) for pair in (("a", "b"), ("b", "a"))]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    assert not any(run.is_alive() for run in runs), "a locking transaction did not end"
    assert failures and "DeadlockDetected" in failures[0].code
    message = error_message(failures[0])
    assert message and "Another kgrec run" in message and "run the command again" in message
