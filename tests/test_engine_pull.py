"""The Neo4j pull gives exactly the columns the same tables give directly."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.pipeline import NothingToTrainError, train_and_publish
from kgrec.engine.training.config import TrainConfig
from kgrec.loaders import write_graph
from kgrec.loaders.synthetic import generate_sample

pytestmark = pytest.mark.neo4j


def _pairs(columns, key):
    head, tail = columns.edges[key]
    return sorted(zip(columns.node_ids[key[0]][head], columns.node_ids[key[2]][tail]))


@pytest.fixture(scope="module")
def sample():
    return generate_sample(n_users=120, seed=3)


def test_pull_equals_columns_from_tables(clean_db, neo4j_database, sample):
    write_graph(clean_db, sample, database=neo4j_database, progress=False)
    pulled, stats = pull_graph(clean_db, neo4j_database)
    direct = columns_from_tabular(sample)
    assert set(pulled.node_ids) == set(direct.node_ids)
    for label in direct.node_ids:
        assert list(pulled.node_ids[label]) == list(direct.node_ids[label]), label
    assert set(pulled.edges) == {k for k, (h, _) in direct.edges.items() if len(h)}
    for key in pulled.edges:
        assert _pairs(pulled, key) == _pairs(direct, key), key
    assert stats.relationships == sum(len(h) for h, _ in direct.edges.values())

    # Attributes stay aligned with their relationships.
    order = {pair: i for i, pair in enumerate(zip(*direct.edges[INTERACTION_KEY]))}
    positions = [order[pair] for pair in zip(*pulled.edges[INTERACTION_KEY])]
    for name in ("rating", "ts", "weight"):
        np.testing.assert_allclose(pulled.edge_attrs[INTERACTION_KEY][name],
                                   direct.edge_attrs[INTERACTION_KEY][name][positions])


def test_pull_a_subgraph(clean_db, neo4j_database, sample):
    write_graph(clean_db, sample, database=neo4j_database, progress=False)
    users = list(sample.users["id"][:10])
    pulled, _ = pull_graph(clean_db, neo4j_database, labels=["User", "Item", "Category"], user_ids=users)
    assert set(pulled.node_ids) == {"User", "Item", "Category"}
    head, _ = pulled.edges[INTERACTION_KEY]
    assert set(pulled.node_ids["User"][head]) == set(users)
    assert {k[1] for k in pulled.edges} == {"INTERACTED", "IN_CATEGORY", "SUBCATEGORY_OF"}


def test_an_empty_database_pulls_nothing_and_training_it_is_one_clear_error(clean_db, neo4j_database, tmp_path):
    columns, stats = pull_graph(clean_db, neo4j_database)
    assert stats.relationships == 0 and not any(len(ends[0]) for ends in columns.edges.values())
    with pytest.raises(NothingToTrainError, match="load data first"):
        train_and_publish(clean_db, neo4j_database, TrainConfig(), progress=False, model_dir=tmp_path)
