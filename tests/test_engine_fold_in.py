"""Folding users into a frozen model, without a database: the live list of a user is the list
the write-back computes for the same history, from the saved file alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgrec.engine.training.config import TrainConfig
from kgrec.engine.evaluation.evaluate import fit_data
from kgrec.engine.fold_in import fold_in
from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns, columns_from_tabular
from kgrec.engine.data.histories import histories_from_columns
from kgrec.engine.models.base import create
from kgrec.engine.output import model_output
from kgrec.engine.neo4j.persist import ModelNotAvailableError, load_frozen, save_model
from kgrec.engine.data.split import temporal_split
from kgrec.graph_schema import ITEM, USER
from kgrec.loaders.synthetic import generate_sample

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def columns() -> GraphColumns:
    return columns_from_tabular(generate_sample(n_users=150, seed=5))


@pytest.fixture(scope="module")
def saved(columns, tmp_path_factory):
    model = create("attention", TrainConfig(seed=0)).fit(fit_data(columns, temporal_split(columns)))
    folder = tmp_path_factory.mktemp("models")
    return model, save_model(folder / "v1.pt", model, columns, "v1"), folder


def interactions_of(columns: GraphColumns, user: int) -> list[dict]:
    """The user's interactions as the API reads them from Neo4j, in the columns' order."""
    users, items = columns.edges[INTERACTION_KEY]
    attrs = columns.edge_attrs[INTERACTION_KEY]
    return [{"item_id": columns.node_ids[ITEM][items[e]], "rating": float(attrs["rating"][e]), "ts": int(attrs["ts"][e])}
            for e in np.flatnonzero(users == user)]


def test_a_folded_in_user_gets_the_list_the_write_back_stores(columns, saved):
    model, path, folder = saved
    frozen = load_frozen(path, models_root=folder)
    histories = histories_from_columns(columns)
    output = model_output(model, columns, histories, "v1", k=10)
    item_ids = columns.node_ids[ITEM]
    for user in (0, 11, 42):
        live = fold_in(frozen, interactions_of(columns, user), k=10)
        assert live.items == item_ids[output.top_items[user]].tolist()
        assert np.allclose(live.scores, output.top_scores[user], atol=1e-5)
        first = output.evidence_items[user][0]
        assert live.evidence[0] == item_ids[first[first >= 0]].tolist()
        stored_embedding = output.embeddings[USER][user]
        assert np.allclose(live.embedding, stored_embedding, atol=1e-4)
        assert live.history == len(interactions_of(columns, user))


def test_new_interactions_change_the_list_and_unknown_items_are_ignored(columns, saved):
    _, path, folder = saved
    frozen = load_frozen(path, models_root=folder)
    history = interactions_of(columns, 3)
    before = fold_in(frozen, history, k=10)
    # the user now also likes the first three of their recommendations
    added = [{"item_id": item, "rating": 5.0, "ts": 2_000_000_000 + n} for n, item in enumerate(before.items[:3])]
    after = fold_in(frozen, history + added, k=10)
    assert after.items != before.items and not set(before.items[:3]) & set(after.items)
    unknown = [{"item_id": "added-after-training", "rating": 5.0, "ts": 2_100_000_000}]
    with_unknown = fold_in(frozen, history + added + unknown, k=10)
    assert with_unknown.items == after.items and with_unknown.history == after.history + 1
    assert fold_in(frozen, unknown, k=10) is None


def test_a_model_with_per_user_parameters_does_not_fold_in(columns, tmp_path):
    model = create("kgat", TrainConfig(seed=0), {"epochs": 1, "dim": 8}).fit(fit_data(columns, temporal_split(columns)))
    path = save_model(tmp_path / "kgat.pt", model, columns, "k1")
    with pytest.raises(ModelNotAvailableError, match="cannot score users it was not trained on"):
        load_frozen(path, models_root=tmp_path)
