"""Items created after training go live from their knowledge links, without retraining.

The published model scores an item through its message, and a new item's message is its
knowledge part: its genres, creators, tags... with the learned per-relation weights
(:meth:`~kgrec.engine.models.base.Recommender.add_items`). So once a frozen model has added an
item, the fold-in (:mod:`kgrec.engine.fold_in`) scores it for every user like any other, each
score still an exact sum of per-interaction contributions, and the item's evidence goes through
the entities it shares with the user's items. An item with no link to an entity the model
knows would score 0 for everyone: it is reported as not recommendable, with the reason.

Example:
    >>> drama = ItemLink(("Item", "IN_CATEGORY", "Category"), "drama")  # doctest: +SKIP
    >>> added = add_items(frozen, {"new-film": [drama]})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from kgrec.engine.data.graph import EdgeKey
from kgrec.engine.neo4j.persist import FrozenModel


@dataclass(frozen=True)
class ItemLink:
    """One relationship of an item to another entity, as the graph holds it.

    Attributes:
        relation: the relationship's (head label, type, tail label), one end ``Item``.
        entity_id: the id of the entity at the other end.
    """

    relation: EdgeKey
    entity_id: str


@dataclass
class AddedItems:
    """What :func:`add_items` did.

    Attributes:
        item_ids: the items the model now scores, in the order of ``embeddings``.
        embeddings, messages: (items x dim) their embeddings and message vectors, in the
            model's space (what the write-back stores on every item).
        not_recommendable: item id -> why it was not added.
    """

    item_ids: list[str] = field(default_factory=list)
    embeddings: np.ndarray | None = None
    messages: np.ndarray | None = None
    not_recommendable: dict[str, str] = field(default_factory=dict)


def add_items(frozen: FrozenModel, links: Mapping[str, Sequence[ItemLink]]) -> AddedItems:
    """Add the items of ``links`` (item id -> its links) to ``frozen``'s model and item ids,
    each scored from its links to entities the model knows. Items the model already scores are
    left as they are; items without such a link are reported in ``not_recommendable``."""
    added = AddedItems()
    known: list[list[tuple[int, int]]] = []
    for item_id, item_links in links.items():
        if item_id in frozen.index:
            continue
        usable = frozen.model.known_links([(link.relation, link.entity_id) for link in item_links])
        if usable:
            added.item_ids.append(item_id)
            known.append(usable)
        else:
            added.not_recommendable[item_id] = _reason(item_id, item_links)
    if not known:
        return added
    added.embeddings, added.messages = frozen.model.add_items(known)
    frozen.index.update({item_id: len(frozen.item_ids) + k for k, item_id in enumerate(added.item_ids)})
    # object ids: a fixed-width string array would cut a longer new id
    frozen.item_ids = np.concatenate([frozen.item_ids.astype(object), np.asarray(added.item_ids, dtype=object)])
    return added


def _reason(item_id: str, links: Sequence[ItemLink]) -> str:
    if not links:
        return (f"item {item_id!r} has no link to a genre, creator, tag or other entity, and no interaction the "
                "model was trained on: nothing can score it until it has one (or until the next training)")
    named = ", ".join(sorted({f"{link.relation[1]} {link.entity_id!r}" for link in links}))
    return (f"item {item_id!r} links only to entities the model was not trained with ({named}): nothing can score it "
            "until it links to a known one (or until the next training)")

