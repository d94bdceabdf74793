"""A plain (user, item) log, the most common input there is, through every command on the real
server: load, train, recommend, explain, evaluate. Also with only one of rating or timestamp."""

from __future__ import annotations

import json

import pytest

from kgrec.cli import main
from kgrec.loaders.synthetic import generate_sample

pytestmark = pytest.mark.neo4j


@pytest.fixture
def cli_env(monkeypatch, neo4j_settings, tmp_path):
    for name, value in (("NEO4J_URI", neo4j_settings.uri), ("NEO4J_USER", neo4j_settings.user),
                        ("NEO4J_PASSWORD", neo4j_settings.password), ("NEO4J_DATABASE", neo4j_settings.database)):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KGREC_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("columns", [["user_id", "item_id"], ["user_id", "item_id", "rating"],
                                     ["user_id", "item_id", "ts"]])
def test_every_command_works_on_an_interaction_log(neo4j_driver, neo4j_database, cli_env, tmp_path, capsys,
                                                   columns):
    from conftest import wipe_database

    wipe_database(neo4j_driver, neo4j_database)
    log = tmp_path / "interactions.csv"
    generate_sample(n_users=120, seed=5).interactions[columns].to_csv(log, index=False)
    assert main(["load", "csv", "--interactions", str(log)]) == 0
    assert main(["train", "--top-k", "10"]) == 0
    assert "active" in capsys.readouterr().out

    records, _, _ = neo4j_driver.execute_query(
        "MATCH (u:User)-[r:RECOMMENDED]->() WITH u, count(r) AS n RETURN u.id AS id, n ORDER BY id LIMIT 1",
        database_=neo4j_database)
    user = records[0]["id"]
    assert records[0]["n"] == 10
    assert main(["recommend", "--user", user, "--k", "5", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert not shown["fallback"] and len(shown["recommendations"]) == 5

    assert main(["explain", "--user", user, "--k", "3", "--paths", "1", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert len(explained) == 3 and all(row["explanations"] for row in explained)
    for row in explained:
        path = row["explanations"][0]
        assert path["nodes"][0]["id"] == user and path["nodes"][-1]["id"] == row["item_id"]

    assert main(["eval", "--methods", "attention", "popularity", "--k", "20"]) == 0
    table = capsys.readouterr().out
    assert "attention" in table and "popularity" in table
