"""Items created after training, added to the frozen model from their knowledge links alone
(without a database): scored for the users whose items share their entities, explained through
those links, embedded in the model's space; an item without a known link is refused with the
reason."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_engine_fold_in import columns, saved  # noqa: F401  (pytest fixtures)

from kgrec.engine.data.graph import GraphColumns
from kgrec.engine.fold_in import fold_in
from kgrec.engine.neo4j.persist import load_frozen
from kgrec.engine.new_items import ItemLink, add_items
from kgrec.graph_schema import ITEM, USER

torch.set_num_threads(1)


def links_of(columns: GraphColumns, item: int) -> list[ItemLink]:
    """Every link of the item to a non-user entity, as the graph holds them."""
    links = []
    for key, (heads, tails) in columns.edges.items():
        if key[0] == ITEM and key[2] not in (ITEM, USER):
            links += [ItemLink(key, str(columns.node_ids[key[2]][t])) for t in tails[heads == item]]
    return links


def test_a_new_item_is_recommended_from_its_links_and_explained_through_them(columns, saved):
    """A new item linked like an existing one (same creator, genres, tags) enters the list of a
    user who interacted with that one, with that interaction as evidence through a shared
    entity and no collaborative part; its embedding estimates its score like any item's."""
    _, path, folder = saved
    frozen = load_frozen(path, models_root=folder)
    twin = 30
    twin_id = str(columns.node_ids[ITEM][twin])
    added = add_items(frozen, {"new-film": links_of(columns, twin)})
    assert added.item_ids == ["new-film"] and not added.not_recommendable
    assert added.embeddings.shape[0] == 1 and added.messages.shape == added.embeddings.shape

    live = fold_in(frozen, [{"item_id": twin_id, "rating": 5.0, "ts": 1}], k=10)
    assert "new-film" in live.items
    position = live.items.index("new-film")
    assert live.evidence[position] == [twin_id]
    channels = live.channels[position]
    collaborative, strongest_link = channels["evidence_channels"][:2]
    assert collaborative == 0.0 and 0.0 < strongest_link <= live.evidence_weights[position][0] + 1e-9
    shared = {f"{link.relation[1]}:{link.entity_id}" for link in links_of(columns, twin)}
    assert channels["evidence_links"][0] in shared
    assert np.dot(live.embedding, added.embeddings[0]) == pytest.approx(live.scores[position], rel=0.2)


def test_an_item_without_a_known_link_is_not_recommendable_and_says_why(saved):
    _, path, folder = saved
    frozen = load_frozen(path, models_root=folder)
    before = len(frozen.item_ids)
    unknown = ItemLink((ITEM, "DIRECTED_BY", "Person"), "someone-new")
    added = add_items(frozen, {"bare": [], "stranger": [unknown]})
    assert added.item_ids == [] and len(frozen.item_ids) == before
    assert "'bare' has no link" in added.not_recommendable["bare"]
    assert "'stranger' links only to entities the model was not trained with (DIRECTED_BY 'someone-new')" \
        in added.not_recommendable["stranger"]
