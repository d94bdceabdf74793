"""The Cypher query library: ``.cypher`` files in this folder, loaded by name.

The files are the public interface for Cypher users (pasteable into Neo4j Browser) and the only
place kgrec keeps query text. Values always travel as parameters (``$name``). A few internal
queries need a label or relationship type that comes from data, which Cypher cannot take as a
parameter; those files write it as ``{{label:NAME}}``, ``{{rel:NAME}}`` or ``{{name:NAME}}`` (an
index name in DDL) and :func:`render` fills it in only after the value passed the allow-list
checks in :mod:`kgrec.graph_schema`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from kgrec.errors import KgrecError
from kgrec.graph_schema import check_label, check_name, check_rel_type

_PLACEHOLDER = re.compile(r"\{\{(label|rel|name):([a-z_]+)\}\}")


class QueryNotFoundError(KgrecError, LookupError):
    """No ``.cypher`` file of that name ships with kgrec."""


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Return the text of ``<name>.cypher`` (header comments included; Neo4j ignores them)."""
    path = resources.files(__package__) / f"{name}.cypher"
    if not path.is_file():
        available = sorted(p.name[: -len(".cypher")] for p in resources.files(__package__).iterdir()
                           if p.name.endswith(".cypher"))
        raise QueryNotFoundError(f"no query named {name!r}; available: {', '.join(available)}")
    return path.read_text(encoding="utf-8")


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
