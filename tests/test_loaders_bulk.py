"""The bulk import (``kgrec load ... --bulk``) gives the graph the transactional loader gives.

The transactional load goes into the suite's shared server (emptied first, like every test
that loads); the bulk import stops and restarts a server, so it runs against a throwaway
server of its own (``side_layout``) and the shared one is never stopped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SETTINGS
from graph_contents import counts, schema, snapshot
from kgrec.cli import main
from kgrec.config import open_driver
from kgrec.graph_schema import TabularGraph, UnsafeIdentifierError
from kgrec.loaders import LoadError, write_graph
from kgrec.loaders.bulk import bulk_write_graph, write_import_files
from kgrec.loaders.synthetic import generate_sample
from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.admin import ImportSource, import_full
from kgrec.neo4j_server.configure import write_config
from kgrec.neo4j_server.errors import ServerError
from kgrec.neo4j_server.toolchain import find_java
from kgrec.settings import Settings

pytestmark = pytest.mark.neo4j


def awkward_sample() -> TabularGraph:
    """The synthetic sample plus every kind of value a load can meet: typed and list
    attributes, missing values, ids and titles with commas, quotes, line breaks and spaces,
    floats that need all their digits."""
    graph = generate_sample(n_interactions=600, seed=5)
    users, items, interactions = graph.users.copy(), graph.items.copy(), graph.interactions.copy()
    n = len(users)
    odd_id = 'u "odd", id'
    interactions.loc[interactions["user_id"] == users.loc[0, "id"], "user_id"] = odd_id
    users.loc[0, "id"] = odd_id
    users["age"] = np.arange(n) + 18
    users["score"] = np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) / 3)
    users["vip"] = np.arange(n) % 2 == 0
    users["tags"] = [None if i % 3 == 0 else ["a,b", 'say "hi"', "x;y"] for i in range(n)]
    users["lucky"] = [[i, i + 1] for i in range(n)]
    titles = ['Comma, "quoted"', "Two\nlines\r\nand CRLF", "  spaced  ", "Amélie à 東京 🎬", None]
    items.loc[:len(titles) - 1, "title"] = titles
    rng = np.random.default_rng(0)
    interactions["weight"] = rng.random(len(interactions)) * 5
    interactions.loc[::4, "rating"] = np.nan
    interactions["ts"] = interactions["ts"].astype("Int64")
    interactions.loc[::5, "ts"] = pd.NA
    return TabularGraph(users=users, items=items, categories=graph.categories,
                        item_categories=graph.item_categories, interactions=interactions,
                        entities=graph.entities, triples=graph.triples)


def _server(layout) -> Settings:
    """The side server's settings, built without the environment (which points at the suite's
    server): its home and ports, the connection read from its password file once prepared."""
    return Settings.model_construct(home=str(layout.home), bolt_port=layout.bolt_port, http_port=layout.http_port)


@pytest.mark.parametrize("running", [True, False], ids=["running-server", "new-home"])
def test_bulk_import_gives_the_transactional_graph(clean_db, neo4j_database, side_layout, running, monkeypatch,
                                                   capsys):
    graph = awkward_sample()
    write_graph(clean_db, graph, database=neo4j_database, progress=False)
    expected = counts(clean_db, neo4j_database), snapshot(clean_db, neo4j_database), schema(clean_db, neo4j_database)

    server = _server(side_layout)
    if running:
        lifecycle.start(side_layout, settings=server)
    else:  # a KGREC_HOME whose server never ran: the import comes first, then the only start
        lifecycle.prepare(side_layout, server)
    summary = bulk_write_graph(graph, server, progress=False)
    settings = server.neo4j
    assert lifecycle.status(side_layout).running
    server_log = (side_layout.server_home / "logs" / "neo4j.log").read_text()
    assert server_log.count("Starting...") == (2 if running else 1)
    with open_driver(settings) as driver:
        found = counts(driver, "neo4j"), snapshot(driver, "neo4j"), schema(driver, "neo4j")
    assert found[0] == expected[0]
    assert found[1][0] == expected[1][0]  # every node: labels and properties
    assert found[1][1] == expected[1][1]  # every relationship: ends, type and properties
    assert found[2] == expected[2]  # constraints and indexes
    assert summary.get("INTERACTED").created == expected[0]["INTERACTED"]
    assert set(summary.phases) == {"write files", "check empty", "stop server", "import", "start server",
                                   "constraints"}
    # spot checks that the comparison covered the awkward values, typed as the driver types them
    users = {p["id"]: p for labels, p in found[1][0] if labels == ["User"]}
    odd = users['u "odd", id']
    assert odd["lucky"] == [0, 1] and odd["vip"] is True and odd["age"] == 18
    assert "score" not in odd and "tags" not in odd
    assert sum(p.get("tags") == ["a,b", 'say "hi"', "x;y"] for p in users.values()) == sum(1 for i in range(len(users)) if i % 3)
    titles = {p.get("title") for labels, p in found[1][0] if labels == ["Item"]}
    assert {'Comma, "quoted"', "Two\nlines\r\nand CRLF", "  spaced  ", "Amélie à 東京 🎬"} <= titles

    # A second bulk load is refused before the server is touched, through the CLI as a user runs it.
    monkeypatch.setenv("KGREC_HOME", str(side_layout.home))
    monkeypatch.setenv("KGREC_BOLT_PORT", str(side_layout.bolt_port))
    monkeypatch.setenv("KGREC_HTTP_PORT", str(side_layout.http_port))
    monkeypatch.setenv("NEO4J_URI", side_layout.bolt_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password)
    pid = lifecycle.status(side_layout).pid
    capsys.readouterr()
    assert main(["load", "sample", "--size", "200", "--bulk", "--no-progress"]) == 2
    assert "database 'neo4j' is not empty" in capsys.readouterr().err
    assert lifecycle.status(side_layout).pid == pid


def test_bulk_refuses_a_remote_server(monkeypatch, capsys):
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example.com:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "unused")
    assert main(["load", "sample", "--size", "200", "--bulk", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "NEO4J_URI is bolt://db.example.com:7687: unset NEO4J_URI" in err and "without --bulk" in err


def test_bulk_refuses_a_database_with_foreign_indexes(side_layout):
    server = _server(side_layout)
    lifecycle.start(side_layout, settings=server)
    with open_driver(server.neo4j) as driver:
        driver.execute_query("CREATE INDEX person_name FOR (p:Person) ON (p.name)")
    with pytest.raises(LoadError, match=r"indexes or constraints the bulk import would drop \(person_name\)"):
        bulk_write_graph(generate_sample(n_interactions=200), server, progress=False)


def test_admin_tool_failure_says_why_and_leaves_no_store(side_layout, tmp_path):
    write_config(side_layout, _server(side_layout))
    bad = tmp_path / "nodes.csv"
    bad.write_text("id:ID(X),size:nosuchtype\nx1,1\n")
    with pytest.raises(ServerError, match=r"import failed \(.*unknown property type 'nosuchtype'\)"):
        import_full(side_layout, "scratch", java=find_java(SETTINGS.java_home), nodes=[ImportSource("X", bad)], relationships=[],
                    array_delimiter="\x1f", multiline=False, report_file=tmp_path / "report", rows=1)
    assert not (side_layout.server_home / "data" / "databases" / "scratch").exists()


@pytest.mark.parametrize("users,error,message", [
    (pd.DataFrame({"id": ["u1", "u2"], "size": [1, "big"]}), LoadError, r"User\.size: the values mix types"),
    (pd.DataFrame({"id": ["u1"], "tags": [[]]}), LoadError, r"User\.tags: the values mix types \(None\)"),
    (pd.DataFrame({"id": ["u1"], "zip code": ["x"]}), UnsafeIdentifierError, r"'zip code' cannot name a property"),
], ids=["mixed", "empty-list", "name"])
def test_columns_the_importer_cannot_hold_are_refused_before_any_server_work(tmp_path, users, error, message):
    with pytest.raises(error, match=message):
        write_import_files(TabularGraph(users=users), tmp_path)


def test_bulk_into_a_new_home_starts_the_server_once(side_layout, monkeypatch, capsys):
    for name, value in (("KGREC_HOME", side_layout.home), ("KGREC_BOLT_PORT", side_layout.bolt_port),
                        ("KGREC_HTTP_PORT", side_layout.http_port)):
        monkeypatch.setenv(name, str(value))
    for name in ("NEO4J_URI", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert main(["load", "sample", "--size", "200", "--bulk", "--no-progress"]) == 0
    assert "INTERACTED" in capsys.readouterr().out
    assert lifecycle.status(side_layout).running
    assert (side_layout.server_home / "logs" / "neo4j.log").read_text().count("Starting...") == 1


def test_import_files_of_a_plain_log_hold_the_ids_it_created(tmp_path):
    """A (user, item) log with ``on_unknown="create"``, read in blocks: the users and items it
    creates are text columns in several Arrow chunks, which pyarrow 26 wrote as garbage."""
    from kgrec.loaders import read_csv_graph

    log = tmp_path / "log.csv"
    # big enough to be read in several blocks
    log.write_text("userId,movieId\n" + "".join(f"{n % 300 + 1},{n % 7 * 10}\n" for n in range(200_000)))
    graph = read_csv_graph(columns={"interactions": {"user_id": "userId", "item_id": "movieId"}},
                           on_unknown="create", interactions=log)
    folder = tmp_path / "import"
    folder.mkdir()
    files = write_import_files(graph, folder)
    written = {source.name: pd.read_csv(source.path, dtype=str, keep_default_na=False) for source in files.nodes}
    assert written["User"]["id:string"].tolist() == [str(n) for n in range(1, 301)]
    assert sorted(written["Item"]["id:string"], key=int) == [str(n * 10) for n in range(7)]
