"""Write-back into Neo4j: slots, the vector index, attention, RECOMMENDED, one active model, and
a write-back killed half-way that leaves the previous model serving.

The model output here is random arrays of the right shapes: what is tested is the write-back,
not the model (the training tests cover that; the end-to-end test runs both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from kgrec.serving import library
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.neo4j.writeback import write_model
from kgrec.engine.output import ModelOutput
from kgrec.loaders import write_graph
from kgrec.loaders.synthetic import generate_sample

pytestmark = pytest.mark.neo4j
DIM, K = 8, 5


def fake_output(columns, version: str, seed: int) -> ModelOutput:
    rng = np.random.default_rng(seed)
    embeddings = {label: rng.normal(size=(len(ids), DIM)) for label, ids in columns.node_ids.items()}
    attention = {key: rng.uniform(0.01, 1.0, size=len(head)) for key, (head, _) in columns.edges.items()}
    n_users, n_items = len(columns.node_ids["User"]), len(columns.node_ids["Item"])
    top = np.stack([rng.choice(n_items, size=K, replace=False) for _ in range(n_users)])
    return ModelOutput(version=version, embeddings=embeddings, attention=attention, top_items=top,
                       top_scores=np.sort(rng.uniform(size=(n_users, K)))[:, ::-1], params={"dim": DIM},
                       metrics={"ndcg@20": 0.1})


def _one(driver, database, query, **params):
    records, _, _ = driver.execute_query(query, parameters_=params, database_=database)
    return records[0][0]


@pytest.fixture
def loaded(clean_db, neo4j_database):
    write_graph(clean_db, generate_sample(n_users=60, seed=5), database=neo4j_database, progress=False)
    columns, _ = pull_graph(clean_db, neo4j_database)
    return clean_db, neo4j_database, columns


def test_write_back_then_replace(loaded):
    driver, database, columns = loaded
    first = fake_output(columns, "v1", seed=1)
    stats = write_model(driver, database, columns, first, progress=False)
    assert stats.embeddings == sum(len(ids) for ids in columns.node_ids.values())
    assert _one(driver, database, "MATCH (m:Model {active: true}) RETURN collect(m.version)") == ["v1"]
    assert _one(driver, database, "MATCH ()-[r]->() WHERE type(r) <> 'RECOMMENDED' AND r.attention_a IS NULL "
                                  "RETURN count(r)") == 0
    n_users = len(columns.node_ids["User"])
    assert _one(driver, database, "MATCH (:User)-[r:RECOMMENDED {model: 'v1'}]->() RETURN count(r)") == n_users * K

    # The stored values are the model's, in the right places.
    user = columns.node_ids["User"][7]
    recs = library.recommendations(driver, database, user, k=K)
    assert [r.item_id for r in recs] == list(columns.node_ids["Item"][first.top_items[7]])
    np.testing.assert_allclose([r.score for r in recs], first.top_scores[7])
    stored = _one(driver, database, "MATCH (u:User {id: $id}) RETURN u.embedding_a", id=user)
    np.testing.assert_allclose(stored, first.embeddings["User"][7])

    # The vector index answers, through the active model's names.
    item = columns.node_ids["Item"][3]
    nearest = _one(driver, database, "MATCH (m:Model {active: true}), (i:Item {id: $id}) "
                                     "CALL db.index.vector.queryNodes(m.item_index, 1, i[m.embedding_property]) "
                                     "YIELD node RETURN node.id", id=item)
    assert nearest == item
    assert [s.item_id for s in library.similar_items(driver, database, item, k=3)]

    # A second model goes to the other slot; the first one is cleaned up after the switch.
    second = fake_output(columns, "v2", seed=2)
    write_model(driver, database, columns, second, progress=False)
    assert _one(driver, database, "MATCH (m:Model) RETURN collect(m.version + ':' + m.slot)") == ["v2:b"]
    assert _one(driver, database, "MATCH ()-[r:RECOMMENDED]->() RETURN collect(DISTINCT r.model)") == ["v2"]
    assert _one(driver, database, "MATCH (n) WHERE n.embedding_a IS NOT NULL RETURN count(n)") == 0
    assert _one(driver, database, "MATCH ()-[r]->() WHERE r.attention_a IS NOT NULL RETURN count(r)") == 0
    assert sorted(_one(driver, database, "SHOW VECTOR INDEXES YIELD name RETURN collect(name)")) == [
        "item_embedding_b", "user_embedding_b"]
    recs = library.recommendations(driver, database, user, k=K)
    assert {r.model for r in recs} == {"v2"}
    assert [r.item_id for r in recs] == list(columns.node_ids["Item"][second.top_items[7]])


WRITER = """
import sys
sys.path.insert(0, {tests!r})
from test_engine_writeback import fake_output
from kgrec.config import open_driver
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.neo4j.writeback import write_model
from kgrec.settings import read_settings
with open_driver(read_settings().neo4j) as driver:
    columns, _ = pull_graph(driver, {database!r})
    write_model(driver, {database!r}, columns, fake_output(columns, "v2", seed=2), batch_size=20, progress=False)
"""


def test_write_back_killed_half_way_leaves_the_previous_model_serving(loaded, neo4j_settings):
    driver, database, columns = loaded
    write_model(driver, database, columns, fake_output(columns, "v1", seed=1), progress=False)
    user = columns.node_ids["User"][0]
    before = library.recommendations(driver, database, user, k=K, paths=2)

    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": neo4j_settings.password,
           "NEO4J_USER": neo4j_settings.user, "NEO4J_DATABASE": database}
    script = WRITER.format(tests=os.path.dirname(__file__), database=database)
    writer = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _one(driver, database, "MATCH (n) WHERE n.embedding_b IS NOT NULL RETURN count(n)") < 100:
        assert writer.poll() is None, writer.stderr.read()
        assert time.monotonic() < deadline, "the write-back never started"
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()

    # Half of v2 is in the graph, but every query still answers with v1 alone.
    assert _one(driver, database, "MATCH (m:Model {active: true}) RETURN collect(m.version)") == ["v1"]
    after = library.recommendations(driver, database, user, k=K, paths=2)
    assert after == before and {r.model for r in after} == {"v1"}

    # The next run succeeds and removes the dead run's leftovers.
    write_model(driver, database, columns, fake_output(columns, "v3", seed=3), progress=False)
    assert _one(driver, database, "MATCH (m:Model) RETURN collect(m.version)") == ["v3"]
    assert _one(driver, database, "MATCH ()-[r:RECOMMENDED]->() RETURN collect(DISTINCT r.model)") == ["v3"]
