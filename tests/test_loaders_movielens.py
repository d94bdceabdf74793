"""MovieLens 100k, 1M and latest, read from files in their own formats (no database)."""

from __future__ import annotations

import pytest

from kgrec.loaders import InputError, read_movielens
from kgrec.loaders.movielens import detect_format
from loaders_data import ml_1m, ml_100k, ml_latest, write


def test_100k(tmp_path):
    graph = read_movielens(ml_100k(tmp_path))
    assert graph.items.set_index("id").loc["2", "title"] == 'Cité "des" enfants (1995)'  # latin-1, quotes kept
    assert "unknown" not in set(graph.categories["id"]) and len(graph.categories) == 18
    links = set(map(tuple, graph.item_categories.values.tolist()))
    assert links == {("1", "Animation"), ("1", "Comedy"), ("3", "Crime"), ("3", "Thriller")}
    assert graph.users.set_index("id").loc["2", "occupation"] == "other"
    first = graph.interactions.iloc[0]
    assert (first["user_id"], first["item_id"], first["rating"], first["weight"], first["ts"]) == \
        ("1", "1", 5.0, 5.0, 874965758)


def test_1m(tmp_path):
    graph = read_movielens(ml_1m(tmp_path))
    assert sorted(graph.categories["id"]) == ["Animation", "Children's", "Comedy", "Drama", "Musical"]
    assert ("661", "Musical") in set(map(tuple, graph.item_categories.values.tolist()))
    assert graph.items.set_index("id").loc["2355", "title"] == "Bug's Life, A (1998)"
    assert graph.users.set_index("id").loc["1", "zip_code"] == "48067"
    assert len(graph.interactions) == 4


def test_latest_with_tags(tmp_path):
    graph = read_movielens(ml_latest(tmp_path), on_unknown="create")
    assert "(no genres listed)" not in set(graph.categories["id"])
    assert set(graph.categories["name"]) == {"Adventure", "Animation", "Comedy"}
    assert graph.items.set_index("id").loc["3", "title"] == "Grumpier Old Men, The (1995)"
    assert sorted(graph.users["id"]) == ["1", "2"]  # no users file: derived from ratings
    triples = set(map(tuple, graph.triples[["head_id", "relation", "tail_id"]].values.tolist()))
    assert triples == {("1", "HAS_TAG", "funny"), ("3", "HAS_TAG", "highly quotable")}
    tags = graph.entities.set_index("id")
    assert (tags["label"] == "Tag").all() and tags.loc["highly quotable", "name"] == "Highly quotable"


def test_format_detection_and_missing_files(tmp_path):
    assert detect_format(ml_1m(tmp_path / "a")) == "1m"
    assert detect_format(ml_latest(tmp_path / "b")) == "latest"
    with pytest.raises(FileNotFoundError, match="u.data, ratings.dat, ratings.csv"):
        read_movielens(tmp_path)
    (tmp_path / "c").mkdir()
    write(tmp_path / "c" / "u.data", "1\t1\t5\t1\n")
    with pytest.raises(FileNotFoundError, match="u.genre is missing"):
        read_movielens(tmp_path / "c")


def test_bad_rating_names_the_movielens_file_and_line(tmp_path):
    folder = ml_1m(tmp_path)
    write(folder / "ratings.dat", "1::1193::5::978300760\n1::661::five::978302109\n")
    with pytest.raises(InputError, match=r"ratings\.dat, line 2, field 'rating'"):
        read_movielens(folder)


def test_bad_genre_flag(tmp_path):
    folder = ml_100k(tmp_path)
    item = (folder / "u.item").read_bytes().replace(b"1|Toy Story (1995)|01-Jan-1995||http://a|0|0|0|1",
                                                    b"1|Toy Story (1995)|01-Jan-1995||http://a|0|0|0|x")
    (folder / "u.item").write_bytes(item)
    with pytest.raises(InputError, match=r"u\.item, line 1, field 'Animation': a genre flag is 0 or 1, not 'x'"):
        read_movielens(folder)
    graph = read_movielens(folder, on_error="skip", on_unknown="create")
    assert [r.line for r in graph.rejects] == [1] and "1" in set(graph.items["id"])  # re-created bare


def test_tag_for_unknown_movie(tmp_path):
    folder = ml_latest(tmp_path)
    write(folder / "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n5,X (1995),Comedy\n")
    write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    with pytest.raises(InputError, match=r"tags\.csv, line 4, field 'movieId': '3' is not in the items table"):
        read_movielens(folder)
