"""Items created after training going live through Neo4j: their links are read from the graph,
the frozen active model adds them (:mod:`kgrec.engine.new_items`), and their embeddings and
message vectors are written through, marked with the model's version, so that every process
serving that model (the CLI that added them, the API) scores the same items.

Example:
    >>> added = go_live(driver, "neo4j", frozen, ["new-film"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import neo4j

from kgrec.engine.neo4j.persist import FrozenModel
from kgrec.engine.new_items import AddedItems, ItemLink, add_items
from kgrec.serving import library


def go_live(driver: neo4j.Driver, database: str, frozen: FrozenModel, item_ids: Sequence[str]) -> AddedItems:
    """Add ``item_ids`` to ``frozen`` (the active model, with the items added before: see
    :func:`catch_up`) from their links in the graph, and write them through. Ids with no item
    node, and items without a link to an entity the model knows, are in ``not_recommendable``."""
    added = _add(driver, database, frozen, item_ids)
    for item_id in item_ids:
        if item_id not in frozen.index and item_id not in added.not_recommendable:
            added.not_recommendable[item_id] = f"no item with id {item_id!r}"
    if added.item_ids:
        library.store_new_items(driver, database, frozen.version, added.item_ids, added.embeddings, added.messages)
    return added


def catch_up(driver: neo4j.Driver, database: str, frozen: FrozenModel, *, timeout: float | None = None) -> None:
    """Add to ``frozen`` the items the graph marks as added to its version that it lacks (a
    model loaded from its checkpoint knows only the items it was trained with), and record the
    model's count of additions it has now taken in (``frozen.added_count``)."""
    count, marked = library.added_items(driver, database, frozen.version, timeout=timeout)
    missing = [item_id for item_id in marked if item_id not in frozen.index]
    if missing:
        _add(driver, database, frozen, missing, timeout)
    frozen.added_count = count


def _add(driver: neo4j.Driver, database: str, frozen: FrozenModel, item_ids: Sequence[str],
         timeout: float | None = None) -> AddedItems:
    links = library.item_links(driver, database, item_ids, timeout=timeout)
    return add_items(frozen, {item_id: [ItemLink(relation, entity) for relation, entity in item_links]
                              for item_id, item_links in links.items()})
