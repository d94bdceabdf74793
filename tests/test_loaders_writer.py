"""Writing into the real Neo4j server: every format, idempotent re-load, bad input changes nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kgrec.cli import main
from kgrec.graph_schema import TabularGraph
from kgrec.loaders import (InputError, LoadError, read_csv_graph, read_dataframes, read_movielens,
                           read_parquet_graph, write_graph)
from graph_contents import counts, snapshot
from loaders_data import ml_1m, ml_100k, ml_latest, tabular_csv, write

pytestmark = pytest.mark.neo4j


def _load(driver, database, graph, **kwargs):
    return write_graph(driver, graph, database=database, progress=False, **kwargs)


def test_csv_graph_lands_as_designed_and_reload_changes_nothing(clean_db, neo4j_database, tmp_path):
    graph = read_csv_graph(**tabular_csv(tmp_path))
    first = _load(clean_db, neo4j_database, graph)
    expected = {"User": 3, "Item": 3, "Category": 3, "Person": 2, "Tag": 1, "INTERACTED": 4,
                "IN_CATEGORY": 2, "SUBCATEGORY_OF": 2, "DIRECTED_BY": 2, "HAS_TAG": 1}
    assert counts(clean_db, neo4j_database) == expected
    assert first.get("INTERACTED").created == 4 and first.get("User").created == 3
    before = snapshot(clean_db, neo4j_database)
    props = {(a, b): p for a, t, b, p in before[1] if t == "INTERACTED"}
    assert props[("u1", "i1")] == {"weight": 5.0, "rating": 5.0, "ts": 100}
    assert props[("u3", "i3")] == {"weight": 1.0}
    assert (["Person"], {"id": "scott", "name": "Ridley Scott"}) in before[0]
    assert (["User"], {"id": "u1", "name": "Ann", "age": "30"}) in before[0]

    again = _load(clean_db, neo4j_database, graph, batch_size=2)
    assert snapshot(clean_db, neo4j_database) == before
    assert all(t.created == 0 and t.updated == 0 and t.unchanged == t.rows for t in again.types)
    constraints = clean_db.execute_query("SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type",
                                         database_=neo4j_database).records
    assert {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in constraints if r["type"] == "UNIQUENESS"} >= \
        {(label, ("id",)) for label in ("User", "Item", "Category", "Person", "Tag")}


def test_reload_updates_changed_values_without_duplicates(clean_db, neo4j_database):
    frames = {"interactions": pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                                            "rating": [1.0, 2.0, 3.0], "ts": [10, 20, 30]}),
              "items": pd.DataFrame({"id": ["a", "b"], "title": ["A", "B"]})}
    _load(clean_db, neo4j_database, read_dataframes(**frames))
    frames["interactions"].loc[0, "rating"] = 5.0
    frames["interactions"].loc[1, "ts"] = None
    frames["items"].loc[1, "title"] = "B2"
    summary = _load(clean_db, neo4j_database, read_dataframes(**frames))
    assert (summary.get("INTERACTED").updated, summary.get("INTERACTED").created) == (2, 0)
    assert (summary.get("Item").updated, summary.get("Item").created) == (1, 0)
    _, rels = snapshot(clean_db, neo4j_database)
    assert rels == [("u1", "INTERACTED", "a", {"weight": 5.0, "rating": 5.0, "ts": 10}),
                    ("u1", "INTERACTED", "b", {"weight": 2.0, "rating": 2.0}),
                    ("u2", "INTERACTED", "a", {"weight": 3.0, "rating": 3.0, "ts": 30})]
    assert counts(clean_db, neo4j_database)["Item"] == 2


@pytest.mark.parametrize("make,expected", [
    (ml_100k, {"User": 2, "Item": 3, "Category": 18, "INTERACTED": 4, "IN_CATEGORY": 4}),
    (ml_1m, {"User": 2, "Item": 3, "Category": 5, "INTERACTED": 4, "IN_CATEGORY": 7}),
    (ml_latest, {"User": 2, "Item": 3, "Category": 3, "Tag": 2, "INTERACTED": 4, "IN_CATEGORY": 4,
                 "HAS_TAG": 2}),
], ids=["100k", "1m", "latest"])
def test_movielens_loads_and_reloads(clean_db, neo4j_database, tmp_path, make, expected):
    graph = read_movielens(make(tmp_path))
    _load(clean_db, neo4j_database, graph)
    assert counts(clean_db, neo4j_database) == expected
    before = snapshot(clean_db, neo4j_database)
    _load(clean_db, neo4j_database, read_movielens(tmp_path))
    assert snapshot(clean_db, neo4j_database) == before


def test_parquet_load(clean_db, neo4j_database, tmp_path):
    pd.DataFrame({"user_id": [1, 1, 2], "item_id": [7, 8, 7], "weight": [0.5, 1.5, 2.0]}).to_parquet(
        tmp_path / "i.parquet")
    _load(clean_db, neo4j_database, read_parquet_graph(interactions=tmp_path / "i.parquet"))
    assert counts(clean_db, neo4j_database) == {"User": 2, "Item": 2, "INTERACTED": 3}


@pytest.mark.parametrize("bad", [
    "user_id,item_id,rating\nu2,i3,4\nu1,i2,nope\n",            # non-numeric rating
    "user_id,item_id\nu2,i3\nu1,i404\n",                         # unknown item
    "user_id,item_id\nu2,i3\n,i2\n",                              # empty id
    "user_id,item_id\nu2,i3\nu1,i2,x\n",                          # malformed row
], ids=["rating", "unknown", "empty", "malformed"])
def test_bad_input_changes_nothing(clean_db, neo4j_database, tmp_path, bad):
    files = tabular_csv(tmp_path)
    _load(clean_db, neo4j_database, read_csv_graph(**files))
    before = snapshot(clean_db, neo4j_database)
    files["interactions"] = write(tmp_path / "bad.csv", bad)
    with pytest.raises(InputError, match=r"bad\.csv, line 3, field"):
        _load(clean_db, neo4j_database, read_csv_graph(**files))
    assert snapshot(clean_db, neo4j_database) == before


def test_bad_in_memory_graph_is_validated_before_writing(clean_db, neo4j_database):
    graph = TabularGraph(triples=pd.DataFrame({"head_label": ["Item"], "head_id": ["i1"], "relation": ["x y"],
                                               "tail_label": ["Person"], "tail_id": ["p"]}))
    with pytest.raises(InputError, match=r"<graph\.triples>, row 1, field 'relation'"):
        _load(clean_db, neo4j_database, graph)
    assert counts(clean_db, neo4j_database) == {}


@pytest.mark.parametrize("field, value", [("relation", "DIRECTED_BY\n"), ("tail_label", "Person\n")])
def test_identifier_with_a_trailing_newline_is_rejected_before_anything_is_written(clean_db, neo4j_database,
                                                                                     field, value):
    """``re.match`` with ``$`` accepts a trailing newline; it then broke the Cypher text after the
    nodes were written. The whole identifier must match."""
    row = {"head_label": "Item", "head_id": "i1", "relation": "DIRECTED_BY", "tail_label": "Person", "tail_id": "p"}
    row[field] = value
    graph = TabularGraph(items=pd.DataFrame({"id": ["i1"], "title": ["Alien"]}), triples=pd.DataFrame([row]))
    with pytest.raises(InputError, match=rf"<graph\.triples>, row 1, field '{field}'"):
        _load(clean_db, neo4j_database, graph)
    assert counts(clean_db, neo4j_database) == {}


def test_failed_batch_leaves_nothing_partial_and_rerun_completes(clean_db, neo4j_database):
    users = pd.DataFrame({"id": [f"u{i:02}" for i in range(25)], "tags": [["a"]] * 25})
    users.at[14, "tags"] = ["a", 1]  # Neo4j refuses mixed-type lists: the second batch fails in the server
    with pytest.raises(LoadError, match=r"User: the batch of rows 11-20 failed and was rolled back"):
        _load(clean_db, neo4j_database, read_dataframes(users=users), batch_size=10)
    stored = clean_db.execute_query("MATCH (u:User) RETURN u.id AS id ORDER BY id", database_=neo4j_database).records
    assert [r["id"] for r in stored] == [f"u{i:02}" for i in range(10)]
    users.at[14, "tags"] = ["a", "1"]
    summary = _load(clean_db, neo4j_database, read_dataframes(users=users), batch_size=10)
    assert summary.get("User").created == 15 and counts(clean_db, neo4j_database) == {"User": 25}


def test_cli_csv_skip_writes_rejects_and_loads_the_rest(clean_db, neo4j_database, tmp_path, capsys):
    files = tabular_csv(tmp_path)
    write(files["interactions"], "user_id,item_id,rating\nu1,i1,4\nu1,i2,bad\nu2,i404,3\n")
    rejects = tmp_path / "rejects.csv"
    args = ["load", "csv", "--no-progress", "--json", "--on-error", "skip", "--rejects", str(rejects),
            "--database", neo4j_database, "--batch-size", "2"]
    args += [arg for name, path in files.items() for arg in (f"--{name.replace('_', '-')}", str(path))]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert '"interactions": 2' in out and f"2 rejected rows written to {rejects}" in out
    assert counts(clean_db, neo4j_database)["INTERACTED"] == 1
    assert len(rejects.read_text().splitlines()) == 3


def test_cli_movielens_and_input_error_exit_code(clean_db, neo4j_database, tmp_path, capsys):
    folder = ml_1m(tmp_path)
    assert main(["load", "movielens", str(folder), "--no-progress", "--database", neo4j_database]) == 0
    assert counts(clean_db, neo4j_database)["INTERACTED"] == 4
    write(folder / "ratings.dat", "1::1193::x::978300760\n")
    assert main(["load", "movielens", str(folder), "--format", "1m", "--no-progress"]) == 2
    assert "ratings.dat, line 1, field 'rating'" in capsys.readouterr().err


def test_cli_sample_loads_and_reloads_unchanged(clean_db, neo4j_database, capsys):
    pytest.importorskip("kgrec.loaders.synthetic")
    args = ["load", "sample", "--size", "600", "--no-progress", "--json", "--database", neo4j_database]
    assert main(args) == 0
    first = counts(clean_db, neo4j_database)
    assert first["INTERACTED"] > 0 and first["User"] > 0 and first["SUBCATEGORY_OF"] > 0
    before = snapshot(clean_db, neo4j_database)
    capsys.readouterr()
    assert main(args + ["--workers", "1", "--batch-size", "50"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert all(t["created"] == 0 and t["updated"] == 0 for t in summary["types"])
    assert snapshot(clean_db, neo4j_database) == before
