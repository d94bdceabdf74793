"""Generic readers: CSV, Parquet and DataFrames give the same validated graph (no database)."""

from __future__ import annotations

import pandas as pd
import pytest

from kgrec.loaders import ValidatedGraph, read_csv_graph, read_dataframes, read_parquet_graph
from loaders_data import tabular_csv, write


def _check_sample(graph: ValidatedGraph) -> None:
    assert graph.users["id"].tolist() == ["u1", "u2", "u3"]
    assert graph.users.loc[0, "name"] == "Ann" and pd.isna(graph.users.loc[2, "name"])
    assert graph.items.set_index("id").loc["i2", "title"] == "Heat, the movie"
    assert graph.categories.set_index("id").loc["scifi", "parent"] == "film"
    assert pd.isna(graph.categories.set_index("id").loc["film", "parent"])
    inter = graph.interactions.set_index(["user_id", "item_id"])
    assert inter.loc[("u1", "i1"), "weight"] == 5.0 and inter.loc[("u1", "i1"), "ts"] == 100
    # no rating and no weight: weight 1.0, rating and ts missing
    assert inter.loc[("u3", "i3"), "weight"] == 1.0 and pd.isna(inter.loc[("u3", "i3"), "rating"])
    assert pd.isna(inter.loc[("u3", "i3"), "ts"])
    entities = graph.entities.set_index(["label", "id"])
    assert entities.loc[("Person", "scott"), "name"] == "Ridley Scott"
    assert ("Person", "mann") in entities.index and ("Tag", "space") in entities.index
    assert len(graph.triples) == 3 and graph.rejects == []


def test_csv_reads_every_table(tmp_path):
    graph = read_csv_graph(**tabular_csv(tmp_path))
    _check_sample(graph)
    assert graph.interactions["weight"].dtype == "float64"
    assert str(graph.interactions["ts"].dtype) == "Int64"


def test_parquet_and_dataframes_match_csv(tmp_path):
    files = tabular_csv(tmp_path / "csv")
    frames = {name: pd.read_csv(path, dtype=str, keep_default_na=False) for name, path in files.items()}
    parquet = {}
    for name, frame in frames.items():
        parquet[name] = tmp_path / f"{name}.parquet"
        frame.to_parquet(parquet[name])
    _check_sample(read_parquet_graph(**parquet))
    _check_sample(read_dataframes(**frames))


def test_numeric_ids_become_strings():
    graph = read_dataframes(interactions=pd.DataFrame({"user_id": [1, 2], "item_id": [10.0, 11.0],
                                                       "weight": [0.5, 2]}))
    assert graph.interactions["user_id"].tolist() == ["1", "2"]
    assert graph.interactions["item_id"].tolist() == ["10", "11"]
    # users and items were not given: they are derived from the interactions
    assert sorted(graph.users["id"]) == ["1", "2"] and sorted(graph.items["id"]) == ["10", "11"]


def test_ids_keep_leading_zeros_and_na_text(tmp_path):
    path = write(tmp_path / "i.csv", "user_id,item_id\n007,NA\n")
    graph = read_csv_graph(interactions=path)
    assert graph.interactions[["user_id", "item_id"]].values.tolist() == [["007", "NA"]]


def test_weight_column_wins_over_rating(tmp_path):
    path = write(tmp_path / "i.csv", "user_id,item_id,rating,weight\nu,a,4,0.5\nu,b,4,\nu,c,,\n")
    graph = read_csv_graph(interactions=path)
    assert graph.interactions["weight"].tolist() == [0.5, 4.0, 1.0]


def test_column_mapping_and_tsv(tmp_path):
    path = write(tmp_path / "r.tsv", "userId\tmovieId\tscore\nu1\tm1\t3.5\n")
    graph = read_csv_graph(interactions=path, sep="\t",
                           columns={"interactions": {"user_id": "userId", "item_id": "movieId", "rating": "score"}})
    assert graph.interactions.iloc[0][["user_id", "item_id", "rating"]].tolist() == ["u1", "m1", 3.5]


def test_multi_character_separator(tmp_path):
    path = write(tmp_path / "r.dat", "user_id::item_id\nu1::m1\n")
    assert read_csv_graph(interactions=path, sep="::").interactions.iloc[0]["item_id"] == "m1"


def test_duplicates_collapse_last_row_wins(tmp_path):
    users = write(tmp_path / "u.csv", "id,name\nu1,Old\nu1,New\n")
    inter = write(tmp_path / "i.csv", "user_id,item_id,rating\nu1,a,1\nu1,a,5\n")
    graph = read_csv_graph(users=users, interactions=inter, on_unknown="create")
    assert graph.users["name"].tolist() == ["New"]
    assert graph.interactions["rating"].tolist() == [5.0]


def test_unknown_reference_created_on_request(tmp_path):
    items = write(tmp_path / "items.csv", "id,title\ni1,A\n")
    inter = write(tmp_path / "i.csv", "user_id,item_id\nu1,i1\nu1,i9\n")
    graph = read_csv_graph(items=items, interactions=inter, on_unknown="create")
    assert sorted(graph.items["id"]) == ["i1", "i9"]


def test_blank_lines_are_ignored(tmp_path):
    path = write(tmp_path / "u.csv", "id\nu1\n\nu2\n")
    assert read_csv_graph(users=path).users["id"].tolist() == ["u1", "u2"]


def test_unknown_table_keyword():
    with pytest.raises(TypeError, match="unknown table"):
        read_dataframes(ratings=pd.DataFrame())
