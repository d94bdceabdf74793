"""kgrec against a Neo4j it did not start (a cluster or Aura, reached by ``NEO4J_URI``): the
suite's server, addressed with the routing scheme ``neo4j://`` and a host name as a cluster is,
from a kgrec home with no server of its own. Every command but ``--bulk`` works there; ``--bulk``
says why it cannot."""

from __future__ import annotations

import csv
import json
from urllib.parse import urlparse

import pytest

from kgrec.cli import main

pytestmark = pytest.mark.neo4j


@pytest.fixture
def remote_env(monkeypatch, neo4j_settings, tmp_path):
    """The environment of a machine that reaches Neo4j only through NEO4J_*: its home is empty."""
    port = urlparse(neo4j_settings.uri).port
    for name, value in (("NEO4J_URI", f"neo4j://localhost:{port}"), ("NEO4J_USER", neo4j_settings.user),
                        ("NEO4J_PASSWORD", neo4j_settings.password), ("NEO4J_DATABASE", neo4j_settings.database)):
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    monkeypatch.setenv("KGREC_HOME", str(home))
    return home


def test_load_train_recommend_explain_through_a_routing_uri_with_no_local_server(neo4j_driver, neo4j_database,
                                                                                 remote_env, tmp_path, capsys):
    from conftest import wipe_database

    wipe_database(neo4j_driver, neo4j_database)
    assert main(["load", "sample", "--size", "3000", "--seed", "3", "--no-progress"]) == 0
    assert main(["load", "sample", "--size", "3000", "--seed", "3", "--bulk"]) == 2
    assert "NEO4J_URI is neo4j://localhost" in capsys.readouterr().err
    assert main(["train", "--top-k", "10"]) == 0
    capsys.readouterr()

    user = neo4j_driver.execute_query("MATCH (u:User)-[:RECOMMENDED]->() RETURN u.id AS id ORDER BY id LIMIT 1",
                                      database_=neo4j_database).records[0]["id"]
    assert main(["recommend", "--user", user, "--k", "5", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["recommendations"]) == 5
    assert main(["explain", "--user", user, "--k", "3", "--paths", "1", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert len(explained) == 3 and all(row["explanations"] for row in explained)
    assert main(["explain", "--store"]) == 0
    assert "stored the best 3 explanation paths" in capsys.readouterr().out
    out = tmp_path / "recs.csv"
    assert main(["export-recommendations", "--out", str(out)]) == 0
    with out.open() as rows:
        assert sum(1 for _ in csv.DictReader(rows)) > 0

    # an item created after training, linked like a trained one, goes live from its links
    neo4j_driver.execute_query(
        "MATCH (twin:Item)-[:IN_CATEGORY]->() WITH twin LIMIT 1 "
        "CREATE (new:Item {id: 'remote-new', title: 'Remote New'}) "
        "WITH twin, new MATCH (twin)-[:IN_CATEGORY]->(category) MERGE (new)-[:IN_CATEGORY]->(category)",
        database_=neo4j_database)
    assert main(["items", "add", "remote-new"]) == 0
    assert "remote-new" in capsys.readouterr().out

    assert sorted(p.name for p in remote_env.iterdir()) == ["models"]  # no server, no password of its own
