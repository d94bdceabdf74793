"""Bad input: every error names file, line and field; skip mode writes a rejects file."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from kgrec.loaders import InputError, read_csv_graph, read_dataframes, read_parquet_graph
from loaders_data import write


def _error(**kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        read_csv_graph(**kwargs)
    return caught.value


def _where(error: InputError, path, line: int, field: str) -> None:
    assert (error.file, error.line, error.field) == (str(path), line, field)
    assert f"{path}, line {line}, field {field!r}" in str(error)


def test_empty_id(tmp_path):
    path = write(tmp_path / "i.csv", "user_id,item_id\nu1,i1\n,i2\n")
    error = _error(interactions=path)
    _where(error, path, 3, "user_id")
    assert "empty id" in error.reason


@pytest.mark.parametrize("column", ["rating", "weight", "ts"])
def test_non_numeric_values(tmp_path, column):
    path = write(tmp_path / "i.csv", f"user_id,item_id,{column}\nu1,i1,1\nu1,i2,1\nu1,i3,lots\n")
    error = _error(interactions=path)
    _where(error, path, 4, column)
    assert "'lots' is not a finite number" in error.reason


def test_error_names_the_column_as_the_file_calls_it(tmp_path):
    path = write(tmp_path / "r.csv", "userId,movieId,score\n1,2,abc\n")
    error = _error(interactions=path, columns={"interactions": {"user_id": "userId", "item_id": "movieId",
                                                                "rating": "score"}})
    _where(error, path, 2, "score")


def test_unknown_reference(tmp_path):
    items = write(tmp_path / "items.csv", "id,title\ni1,A\n")
    inter = write(tmp_path / "i.csv", "user_id,item_id\nu1,i1\nu1,i9\n")
    error = _error(items=items, interactions=inter)
    _where(error, inter, 3, "item_id")
    assert "'i9' is not in the items table" in error.reason and "on_unknown='create'" in error.reason


def test_unknown_category_parent_and_triple_head(tmp_path):
    cats = write(tmp_path / "c.csv", "id,name,parent\na,A,\nb,B,zzz\n")
    _where(_error(categories=cats), cats, 3, "parent")
    items = write(tmp_path / "items.csv", "id\ni1\n")
    triples = write(tmp_path / "t.csv", "head_label,head_id,relation,tail_label,tail_id\n"
                                        "Item,i1,DIRECTED_BY,Person,p\nItem,i2,DIRECTED_BY,Person,p\n")
    _where(_error(items=items, triples=triples), triples, 3, "head_id")


def test_missing_column(tmp_path):
    path = write(tmp_path / "i.csv", "user,item_id\nu1,i1\n")
    error = _error(interactions=path)
    _where(error, path, 1, "user_id")
    assert "columns found: user, item_id" in error.reason and "--column interactions.user_id=" in error.reason


def test_malformed_row(tmp_path):
    path = write(tmp_path / "i.csv", "user_id,item_id\nu1,i1\nu1,i2,extra\nu2,i1\n")
    error = _error(interactions=path)
    _where(error, path, 3, "(row)")
    assert "expected 2 fields, saw 3" in error.reason


def test_unclosed_quote(tmp_path):
    path = write(tmp_path / "items.csv", 'id,title\ni1,"Alien\ni2,Heat\n')
    error = _error(items=path)
    assert error.line == 2 and "never closed" in error.reason


def test_line_numbers_count_newlines_inside_quoted_fields(tmp_path):
    path = write(tmp_path / "items.csv", 'id,title\ni1,"two\nlines"\n,Heat\n')
    _where(_error(items=path), path, 4, "id")


def test_wrong_encoding_names_line_and_field_and_suggests_the_option(tmp_path):
    path = write(tmp_path / "items.csv", "id,title\ni1,Alien\ni2,Amélie\n", encoding="latin-1")
    error = _error(items=path)
    _where(error, path, 3, "title")
    assert "encoding='latin-1'" in error.reason and "--encoding" in error.reason
    assert read_csv_graph(items=path, encoding="latin-1").items["title"].tolist() == ["Alien", "Amélie"]


@pytest.mark.parametrize("field,value,message", [
    ("relation", "directed by", "not an allowed relationship type"),
    ("relation", "INTERACTED", "not an allowed relationship type"),
    ("tail_label", "Person`) DETACH DELETE (n", "not an allowed node label"),
    ("head_label", "Model", "not an allowed node label"),
])
def test_unsafe_identifiers(tmp_path, field, value, message):
    row = {"head_label": "Item", "head_id": "i1", "relation": "DIRECTED_BY", "tail_label": "Person", "tail_id": "p"}
    row[field] = value
    path = tmp_path / "t.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    error = _error(triples=path, on_unknown="create")
    _where(error, path, 2, field)
    assert message in error.reason


def test_entities_may_not_hold_core_labels(tmp_path):
    path = write(tmp_path / "e.csv", "label,id,name\nPerson,p,P\nItem,i1,Alien\n")
    error = _error(entities=path)
    _where(error, path, 3, "label")
    assert "items table" in error.reason


def test_parquet_and_dataframe_errors_name_the_row(tmp_path):
    frame = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"], "rating": [4.0, float("inf")]})
    path = tmp_path / "i.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match=r"i\.parquet, row 2, field 'rating'"):
        read_parquet_graph(interactions=path)
    with pytest.raises(InputError, match=r"<interactions DataFrame>, row 2, field 'rating'"):
        read_dataframes(interactions=frame)


def test_skip_writes_rejects_and_loads_the_rest(tmp_path):
    items = write(tmp_path / "items.csv", "id,title\ni1,A\ni2,B\n")
    inter = write(tmp_path / "i.csv", "user_id,item_id,rating\nu1,i1,4\nu1,i2,x\nu2,i9,3\n,i1,2\n"
                                      "u3,i1,1,extra\nu3,i2,5\n")
    rejects = tmp_path / "rejects.csv"
    graph = read_csv_graph(items=items, interactions=inter, on_error="skip", rejects=rejects)
    assert graph.interactions[["user_id", "item_id"]].values.tolist() == [["u1", "i1"], ["u3", "i2"]]
    with open(rejects, newline="") as f:
        rows = list(csv.DictReader(f))
    found = {(int(r["line"]), r["field"]): r for r in rows}
    assert set(found) == {(3, "rating"), (4, "item_id"), (5, "user_id"), (6, "(row)")}
    assert found[(3, "rating")]["row"] == "u1,i2,x" and "not a finite number" in found[(3, "rating")]["reason"]
    assert found[(6, "(row)")]["row"] == "u3,i1,1,extra"
    assert all(r["file"] == str(inter) and r["table"] == "interactions" for r in rows)
    assert len(graph.rejects) == 4


def test_no_rejects_file_when_nothing_is_rejected(tmp_path):
    inter = write(tmp_path / "i.csv", "user_id,item_id\nu1,i1\n")
    read_csv_graph(interactions=inter, on_error="skip", rejects=tmp_path / "rejects.csv")
    assert not (tmp_path / "rejects.csv").exists()


def test_bad_options():
    with pytest.raises(ValueError, match="on_error"):
        read_dataframes(users=pd.DataFrame({"id": ["u"]}), on_error="ignore")
    with pytest.raises(ValueError, match="on_unknown"):
        read_dataframes(users=pd.DataFrame({"id": ["u"]}), on_unknown="guess")


def test_missing_input_file_is_a_clear_error(tmp_path):
    from kgrec.loaders import read_csv_graph, read_parquet_graph
    from kgrec.loaders.errors import InputError

    with pytest.raises(InputError, match=r"nope\.csv.*the interactions file does not exist"):
        read_csv_graph(interactions=tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"nope\.parquet.*the users file does not exist"):
        read_parquet_graph(users=tmp_path / "nope.parquet")
