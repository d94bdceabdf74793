"""MovieLens, read from the files people download from grouplens.org, unchanged.

=========== ===================================================== ==========================
format      files (in one folder)                                 text
=========== ===================================================== ==========================
``100k``    ``u.data`` (tab), ``u.item``, ``u.user``, ``u.genre``  ``|``, latin-1, no header
``1m``      ``ratings.dat``, ``movies.dat``, ``users.dat``         ``::``, latin-1, no header
``latest``  ``ratings.csv``, ``movies.csv``, ``tags.csv`` (opt.)   CSV, UTF-8, header
=========== ===================================================== ==========================

Genres become ``Category`` nodes whose id and name is the genre ("Action"); the placeholders
"unknown" (100k) and "(no genres listed)" (latest) are not categories. Tags (latest) become
``Tag`` entities linked by ``(:Item)-[:HAS_TAG]->(:Tag)``; the tag's id is its text in lower
case (so "Funny" and "funny" are one tag), its name the last spelling seen. Ratings are both
``rating`` and ``weight``; timestamps are ``ts``. Errors name the MovieLens file and its line.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from kgrec.graph_schema import ITEM
from kgrec.loaders.columns import TableSpec
from kgrec.loaders.tables import Table, read_csv_table
from kgrec.loaders.tabular import PathLike, finish
from kgrec.loaders.validate import ValidatedGraph

FORMATS = ("auto", "100k", "1m", "latest")
#: the file whose presence identifies each format
_MARKERS = {"100k": "u.data", "1m": "ratings.dat", "latest": "ratings.csv"}
NOT_GENRES = frozenset({"unknown", "(no genres listed)"})
TAG = "Tag"
HAS_TAG = "HAS_TAG"
_INTERACTION_NAMES = ["user_id", "item_id", "rating", "ts"]
#: tags.csv before it becomes triples (its other columns, userId and timestamp, are not used)
_TAGS = TableSpec(("item_id", "tag"))


def read_movielens(directory: PathLike, *, format: str = "auto", on_error: str = "raise",
                   on_unknown: str = "error", rejects: PathLike | None = None) -> ValidatedGraph:
    """Read a MovieLens folder (ml-100k, ml-1m, ml-latest or ml-latest-small).

    Args:
        directory: the unpacked folder, e.g. ``ml-100k/``.
        format: ``"auto"`` (decided by which ratings file is present), ``"100k"``, ``"1m"`` or
            ``"latest"``.
        on_error, on_unknown, rejects: as in :func:`kgrec.loaders.read_csv_graph`.

    Raises:
        FileNotFoundError: a file the format needs is missing.
        InputError: naming file, line and field of the first bad row (``on_error="raise"``).
    """
    folder = Path(directory)
    kind = detect_format(folder) if format == "auto" else format
    readers = {"100k": _read_100k, "1m": _read_1m, "latest": _read_latest}
    if kind not in readers:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    tables = readers[kind](folder, on_error)
    return finish(tables, on_error=on_error, on_unknown=on_unknown, rejects=rejects)


def detect_format(folder: Path) -> str:
    """Which MovieLens format ``folder`` holds, judged by its ratings file."""
    for kind, marker in _MARKERS.items():
        if (folder / marker).is_file():
            return kind
    raise FileNotFoundError(f"{folder} holds no MovieLens ratings file; expected one of "
                            f"{', '.join(_MARKERS.values())} (ml-100k, ml-1m, ml-latest)")


def _read_100k(folder: Path, on_error: str) -> dict[str, Table]:
    genres = _read(folder / "u.genre", "categories", sep="|", names=["id", "index"], on_error=on_error)
    flags = genres.frame["id"].tolist()
    items = _check_flags(_read(folder / "u.item", "items", sep="|", on_error=on_error,
                               names=["id", "title", "release_date", "video_release_date", "imdb_url"] + flags),
                         flags, on_error)
    links = _flag_links(items, flags)
    items = replace(items, frame=items.frame.drop(columns=flags + ["video_release_date"]))
    categories = genres.keep(~genres.frame["id"].isin(NOT_GENRES).to_numpy())
    return {
        "categories": replace(categories, frame=categories.frame[["id"]].assign(name=categories.frame["id"])),
        "items": items,
        "item_categories": links,
        "users": _read(folder / "u.user", "users", sep="|", on_error=on_error,
                       names=["id", "age", "gender", "occupation", "zip_code"]),
        "interactions": _read(folder / "u.data", "interactions", sep="\t", names=_INTERACTION_NAMES,
                              on_error=on_error),
    }


def _read_1m(folder: Path, on_error: str) -> dict[str, Table]:
    movies = _read(folder / "movies.dat", "items", sep="::", names=["id", "title", "genres"], on_error=on_error)
    return _with_genres(movies) | {
        "users": _read(folder / "users.dat", "users", sep="::", on_error=on_error,
                       names=["id", "gender", "age", "occupation", "zip_code"]),
        "interactions": _read(folder / "ratings.dat", "interactions", sep="::", names=_INTERACTION_NAMES,
                              on_error=on_error),
    }


def _read_latest(folder: Path, on_error: str) -> dict[str, Table]:
    movies = read_csv_table(folder / "movies.csv", "items", columns={"items": {"id": "movieId"}},
                            on_error=on_error)
    tables = _with_genres(movies) | {
        "interactions": read_csv_table(
            folder / "ratings.csv", "interactions", on_error=on_error,
            columns={"interactions": {"user_id": "userId", "item_id": "movieId", "ts": "timestamp"}}),
    }
    if (folder / "tags.csv").is_file():
        tables |= _tags(read_csv_table(folder / "tags.csv", "tags", spec=_TAGS, on_error=on_error,
                                       columns={"tags": {"item_id": "movieId"}}))
    return tables


def _read(path: Path, name: str, *, sep: str, names: list[str], on_error: str) -> Table:
    """One header-less MovieLens 100k/1m file (latin-1, no quoting: titles contain quotes)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; MovieLens {path.parent.name} needs it")
    return read_csv_table(path, name, sep=sep, encoding="latin-1", header=False, names=names,
                          quoting=csv.QUOTE_NONE, on_error=on_error)


def _check_flags(items: Table, flags: list[str], on_error: str) -> Table:
    """ml-100k's genre columns hold 0 or 1; a row with anything else is a bad row."""
    values = items.frame[flags].to_numpy()
    bad = ~np.isin(values, ["0", "1"])
    rows = np.flatnonzero(bad.any(axis=1))
    if not len(rows):
        return items
    rejects = tuple(items.reject(r, flags[bad[r].argmax()],
                                 f"a genre flag is 0 or 1, not {values[r, bad[r].argmax()]!r}") for r in rows)
    if on_error == "raise":
        raise rejects[0].error()
    kept = items.keep(~bad.any(axis=1))
    return replace(kept, malformed=kept.malformed + rejects)


def _flag_links(items: Table, flags: list[str]) -> Table:
    """ml-100k's genre columns -> item_categories rows, one per flag set to 1."""
    frame = items.frame
    rows, cols = np.nonzero(frame[flags].to_numpy() == "1")
    keep = [flags[c] not in NOT_GENRES for c in cols]
    rows, cols = rows[keep], cols[keep]
    links = pd.DataFrame({"item_id": frame["id"].to_numpy()[rows], "category_id": np.asarray(flags)[cols]})
    return Table("item_categories", items.source, links, items.lines[rows], items.unit)


def _with_genres(movies: Table) -> dict[str, Table]:
    """Split ``Genre1|Genre2`` into item_categories and categories; the movies keep the rest."""
    genres = movies.frame["genres"].str.split("|").explode()
    genres = genres[(genres != "") & ~genres.isin(NOT_GENRES) & genres.notna()]
    positions = genres.index.to_numpy()
    links = pd.DataFrame({"item_id": movies.frame["id"].to_numpy()[positions], "category_id": genres.to_numpy()})
    first = ~links["category_id"].duplicated().to_numpy()
    names = links["category_id"][first].to_numpy()
    return {
        "items": replace(movies, frame=movies.frame.drop(columns="genres")),
        "item_categories": Table("item_categories", movies.source, links, movies.lines[positions], movies.unit,
                                 file_columns={"item_id": "movieId", "category_id": "genres"}),
        "categories": Table("categories", movies.source, pd.DataFrame({"id": names, "name": names}),
                            movies.lines[positions][first], movies.unit, file_columns={"id": "genres"}),
    }


def _tags(tags: Table) -> dict[str, Table]:
    """tags.csv -> ``(:Item)-[:HAS_TAG]->(:Tag)`` triples and the Tag entities with their names."""
    text = tags.frame["tag"].str.strip()
    frame = pd.DataFrame({"head_label": ITEM, "head_id": tags.frame["item_id"], "relation": HAS_TAG,
                          "tail_label": TAG, "tail_id": text.str.lower()})
    entities = pd.DataFrame({"label": TAG, "id": frame["tail_id"], "name": text})
    return {"triples": replace(tags, name="triples", frame=frame, file_columns={"head_id": "movieId", "tail_id": "tag"}),
            "entities": replace(tags, name="entities", frame=entities, file_columns={"id": "tag", "name": "tag"})}
