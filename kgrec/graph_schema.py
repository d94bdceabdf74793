"""The graph schema shared by every module: labels, relationship types, and identifier checks.

Neo4j cannot take a label or a relationship type as a query parameter, so any name that comes
from data (a triples file, a CLI flag) must pass :func:`check_identifier` before it is placed
into Cypher text. Everything else is always passed as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from kgrec.errors import KgrecError

USER = "User"
ITEM = "Item"
CATEGORY = "Category"
MODEL = "Model"
PUBLISH_LOCK = "PublishLock"

INTERACTED = "INTERACTED"
IN_CATEGORY = "IN_CATEGORY"
SUBCATEGORY_OF = "SUBCATEGORY_OF"
RECOMMENDED = "RECOMMENDED"

#: Labels and relationship types kgrec reserves for itself; a triples file may not use them as
#: a knowledge relation, because the engine and the query library give them a fixed meaning.
RESERVED_RELATIONS = frozenset({INTERACTED, RECOMMENDED})
RESERVED_LABELS = frozenset({MODEL, PUBLISH_LOCK})

#: Matched with ``fullmatch``: ``re.match`` with ``$`` also accepts a trailing newline, which
#: passed validation and then broke the Cypher text after nodes were written.
_LABEL_PATTERN = re.compile(r"[A-Z][A-Za-z0-9_]{0,63}")
_REL_TYPE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PROPERTY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class UnsafeIdentifierError(KgrecError, ValueError):
    """A label or relationship type that is not allowed to reach Cypher text."""


def check_label(name: str, *, where: str = "label", allow_reserved: bool = False) -> str:
    """Return ``name`` if it is a safe node label (``CamelCase`` letters, digits, ``_``).

    ``allow_reserved`` is for kgrec's own queries, which may name its reserved labels; names
    that come from data never may.

    Raises:
        UnsafeIdentifierError: naming ``where`` (file, row, field) and the pattern expected.
    """
    reserved = name in RESERVED_LABELS and not allow_reserved
    if not isinstance(name, str) or not _LABEL_PATTERN.fullmatch(name) or reserved:
        raise UnsafeIdentifierError(
            f"{where}: {name!r} is not an allowed node label; use a name matching "
            f"{_LABEL_PATTERN.pattern} (e.g. Person, Tag) other than {sorted(RESERVED_LABELS)}"
        )
    return name


def check_rel_type(name: str, *, where: str = "relation", allow_reserved: bool = False) -> str:
    """Return ``name`` if it is a safe relationship type (``UPPER_SNAKE_CASE``).

    ``allow_reserved`` is for kgrec's own queries (see :func:`check_label`).

    Raises:
        UnsafeIdentifierError: naming ``where`` (file, row, field) and the pattern expected.
    """
    reserved = name in RESERVED_RELATIONS and not allow_reserved
    if not isinstance(name, str) or not _REL_TYPE_PATTERN.fullmatch(name) or reserved:
        raise UnsafeIdentifierError(
            f"{where}: {name!r} is not an allowed relationship type; use a name matching "
            f"{_REL_TYPE_PATTERN.pattern} (e.g. DIRECTED_BY, HAS_TAG) other than "
            f"{sorted(RESERVED_RELATIONS)}"
        )
    return name


def check_name(name: str, *, where: str = "name") -> str:
    """Return ``name`` if it is a safe index or property name (``lower_snake_case``)."""
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise UnsafeIdentifierError(f"{where}: {name!r} is not an allowed name; use {_NAME_PATTERN.pattern}")
    return name


def check_property(name: str, *, where: str = "property") -> str:
    """Return ``name`` if it is a safe property name to place in query or import-header text.

    Property values always travel as parameters; only the bulk import has to write the names
    of data columns into text (the CSV header ``name:type``), where ``:``, ``,`` or quotes
    would change its meaning.
    """
    if not isinstance(name, str) or not _PROPERTY_PATTERN.fullmatch(name):
        raise UnsafeIdentifierError(
            f"{where}: {name!r} cannot name a property in a bulk import; rename the column to match "
            f"{_PROPERTY_PATTERN.pattern} (e.g. zip_code), or load without --bulk"
        )
    return name


@dataclass
class TabularGraph:
    """A knowledge graph as tables, the form every reader produces and the writer consumes.

    All ids are strings. Optional columns may be absent.

    Attributes:
        users: ``id`` plus optional attribute columns.
        items: ``id``, ``title`` plus optional attribute columns.
        categories: ``id``, ``name``, optional ``parent`` (a category id, for a hierarchy).
        item_categories: ``item_id``, ``category_id``.
        interactions: ``user_id``, ``item_id``, ``weight`` (float), optional ``rating`` (float)
            and ``ts`` (int, seconds since the epoch).
        entities: knowledge entities that are neither users, items nor categories:
            ``label``, ``id``, ``name``.
        triples: ``head_label``, ``head_id``, ``relation``, ``tail_label``, ``tail_id``.
    """

    users: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"id": []}, dtype=str))
    items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"id": [], "title": []}, dtype=str))
    categories: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"id": [], "name": []}, dtype=str))
    item_categories: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"item_id": [], "category_id": []}, dtype=str)
    )
    interactions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"user_id": [], "item_id": [], "weight": []})
    )
    entities: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"label": [], "id": [], "name": []}, dtype=str)
    )
    triples: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"head_label": [], "head_id": [], "relation": [], "tail_label": [], "tail_id": []}, dtype=str
        )
    )
