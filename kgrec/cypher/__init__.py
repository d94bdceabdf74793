"""The Cypher query library: ``.cypher`` files in this package, loaded by name.

``public/`` holds the queries a Cypher user pastes into Neo4j Browser (the README and the
Browser guide name them): recommendations and their explanations, similar items, the active
model. ``internal/`` holds what kgrec's own processes run: loading, pulling, writing back, the
publish lock, bulk import. Both are the only place kgrec keeps query text, and one loader reads
both (names are unique across the two). Values always travel as parameters (``$name``). A few
internal queries need a label or relationship type that comes from data, which Cypher cannot
take as a parameter; those files write it as ``{{label:NAME}}``, ``{{rel:NAME}}`` or
``{{name:NAME}}`` (an index name in DDL) and :func:`render` fills it in only after the value
passed the allow-list checks in :mod:`kgrec.graph_schema`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from kgrec.errors import KgrecError
from kgrec.graph_schema import check_label, check_name, check_rel_type

_PLACEHOLDER = re.compile(r"\{\{(label|rel|name):([a-z_]+)\}\}")


class QueryNotFoundError(KgrecError, LookupError):
    """No ``.cypher`` file of that name ships with kgrec."""


#: the folders of query files, public first
FOLDERS = ("public", "internal")


def query_files() -> dict[str, Traversable]:
    """Every query file by name."""
    return {entry.name[: -len(".cypher")]: entry for folder in FOLDERS
            for entry in (resources.files(__package__) / folder).iterdir() if entry.name.endswith(".cypher")}


def path(name: str) -> Traversable:
    """The file of query ``name`` (to show people where to find it, e.g. for Neo4j Browser)."""
    found = query_files().get(name)
    if found is None:
        raise QueryNotFoundError(f"no query named {name!r}; available: {', '.join(sorted(query_files()))}")
    return found


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Return the text of ``<name>.cypher`` (header comments included; Neo4j ignores them)."""
    return path(name).read_text(encoding="utf-8")


def render(name: str, **identifiers: str) -> str:
    """Return query ``name`` with its ``{{label:x}}`` / ``{{rel:x}}`` / ``{{name:x}}`` slots filled.

    Every slot must be given, and every value is checked against the label, relationship-type
    or name pattern first, so data can never inject Cypher. kgrec's reserved names (INTERACTED,
    Model, ...) are allowed here: whether data may use them is the loaders' check.

    Example:
        >>> render("load_entities", label="Person")  # doctest: +SKIP
    """
    text = load(name)

    def fill(match: re.Match[str]) -> str:
        kind, slot = match.group(1), match.group(2)
        if slot not in identifiers:
            raise KeyError(f"query {name!r} needs identifier {slot!r}")
        value = identifiers[slot]
        if kind == "label":
            return check_label(value, where=slot, allow_reserved=True)
        if kind == "rel":
            return check_rel_type(value, where=slot, allow_reserved=True)
        return check_name(value, where=slot)

    return _PLACEHOLDER.sub(fill, text)
