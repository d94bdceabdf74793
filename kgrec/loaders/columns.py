"""The input tables kgrec understands and the column names it expects by default.

Each table of a :class:`~kgrec.graph_schema.TabularGraph` has required and optional columns.
Input files may call them anything: a ``columns`` mapping renames them, e.g.
``{"interactions": {"user_id": "userId", "item_id": "movieId"}}`` (canonical name -> name in
the file). Columns of users, items and categories that are not listed here become node
properties; extra columns of the other tables are ignored.

Defaults (canonical names):

============== ============================================== ==================================
table          required                                       optional
============== ============================================== ==================================
users          ``id``                                         any attribute
items          ``id``                                         ``title``, any attribute
categories     ``id``                                         ``name``, ``parent``, attributes
item_categories ``item_id``, ``category_id``
interactions   ``user_id``, ``item_id``                       ``rating``, ``weight``, ``ts``
entities       ``label``, ``id``                              ``name``
triples        ``head_label``, ``head_id``, ``relation``,
               ``tail_label``, ``tail_id``
============== ============================================== ==================================

``weight`` of an interaction is its ``weight`` column when given, else its ``rating``, else 1.0.
``ts`` is seconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kgrec.loaders.errors import InputError


@dataclass(frozen=True)
class TableSpec:
    """The columns of one input table."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    #: other columns become node properties (nodes tables) or are dropped (link tables)
    keeps_attributes: bool = False


TABLES: dict[str, TableSpec] = {
    "users": TableSpec(("id",), keeps_attributes=True),
    "items": TableSpec(("id",), ("title",), keeps_attributes=True),
    "categories": TableSpec(("id",), ("name", "parent"), keeps_attributes=True),
    "item_categories": TableSpec(("item_id", "category_id")),
    "interactions": TableSpec(("user_id", "item_id"), ("rating", "weight", "ts")),
    "entities": TableSpec(("label", "id"), ("name",)),
    "triples": TableSpec(("head_label", "head_id", "relation", "tail_label", "tail_id")),
}

ColumnMap = Mapping[str, Mapping[str, str]]


def canonical_names(table: str, spec: TableSpec, present: list[str], source: str,
                    columns: ColumnMap | None, *, unit: str = "line") -> dict[str, str]:
    """Return ``{name in the input: canonical name}`` for ``table``, whose columns ``spec`` lists.

    Raises:
        InputError: a required column is missing (reported at the header, line 1), or the
            mapping names a table or canonical column that does not exist.
    """
    mapping = dict((columns or {}).get(table, {}))
    known = set(spec.required) | set(spec.optional)
    for canonical in mapping:
        if canonical not in known:
            raise InputError(source, 1, canonical,
                             f"the {table} table has no column {canonical!r} to map; "
                             f"known columns: {', '.join(sorted(known))}", unit=unit)
    source_of = {name: mapping.get(name, name) for name in spec.required + spec.optional}
    for name in spec.required:
        if source_of[name] not in present:
            raise InputError(source, 1, source_of[name],
                             f"required column of the {table} table is missing; columns found: "
                             f"{', '.join(present) or '(none)'}; map another column to {name!r} "
                             f"with columns={{{table!r}: {{{name!r}: 'yourColumn'}}}} "
                             f"(CLI: --column {table}.{name}=yourColumn)", unit=unit)
    return {src: name for name, src in source_of.items() if src in present}


def parse_column_option(option: str) -> tuple[str, str, str]:
    """Split a CLI ``--column TABLE.FIELD=NAME`` option into ``(table, field, name)``."""
    target, sep, name = option.partition("=")
    table, dot, field = target.partition(".")
    if not (sep and dot and name and table in TABLES):
        raise ValueError(f"{option!r}: expected TABLE.FIELD=NAME with TABLE one of {', '.join(TABLES)}")
    return table, field, name
