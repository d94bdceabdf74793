"""Real time on the real server: a user's new interactions reach their recommendations and
explanations at once, through the frozen active model, and are written through to Neo4j.

One sample is loaded and trained once; each test works on users of its own. The model switch
test publishes a second model and runs last.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from api_fixtures import WRITE_KEY, build_app
from conftest import wipe_database
from kgrec.serving import library
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.fold_in import LiveList, fold_in
from kgrec.engine.data.histories import histories_from_columns
from kgrec.engine.output import ranked
from kgrec.engine.neo4j.persist import load_frozen
from kgrec.engine.pipeline import train_and_publish
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.graph_schema import ITEM, USER
from kgrec.loaders import write_graph
from kgrec.loaders.synthetic import generate_sample

pytestmark = pytest.mark.neo4j
HEADERS = {"X-API-Key": WRITE_KEY}


@pytest.fixture(scope="module")
def trained(neo4j_driver, neo4j_database, tmp_path_factory):
    """A sample graph with a published attention model: (driver, database, version, model folder),
    the folder being the ``models`` folder of a kgrec home of its own."""
    torch.set_num_threads(1)
    wipe_database(neo4j_driver, neo4j_database)
    write_graph(neo4j_driver, generate_sample(n_users=80, seed=11), database=neo4j_database, progress=False)
    folder = tmp_path_factory.mktemp("home") / "models"
    version, _ = train_and_publish(neo4j_driver, neo4j_database, TrainConfig(seed=1), top_k=10, progress=False,
                                   model_dir=folder)
    return neo4j_driver, neo4j_database, version, folder


@pytest.fixture
def client(trained, neo4j_settings):
    app = build_app(neo4j_settings, api_key=WRITE_KEY, home=str(trained[3].parent))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_apps_settings_decide_where_it_reads_checkpoints(trained, neo4j_settings, tmp_path, monkeypatch):
    """The models folder is the home of the settings the app was given, whatever KGREC_HOME the
    process has: an app on the training home folds a new user in, one on another home cannot."""
    driver, database, version, folder = trained
    for home, other, user in ((folder.parent, tmp_path, "at-home"), (tmp_path, folder.parent, "elsewhere")):
        monkeypatch.setenv("KGREC_HOME", str(other))
        with TestClient(build_app(neo4j_settings, api_key=WRITE_KEY, home=str(home))) as client:
            _rate(client, user, _popular(driver, database, 3))
            body = client.get(f"/v1/users/{user}/recommendations", params={"k": 5}).json()
        assert body["live"] is (home == folder.parent), (home, body)
        assert body["strategy"] == ("model" if body["live"] else "fallback")


def _read(driver, database, query, **params):
    records, _, _ = driver.execute_query(query, parameters_=params, database_=database)
    return records


def _rate(client: TestClient, user: str, items: list[str], ts: int = 1_900_000_000) -> None:
    rows = [{"user_id": user, "item_id": item, "rating": 5.0, "ts": ts + n} for n, item in enumerate(items)]
    response = client.post("/v1/interactions", json={"interactions": rows}, headers=HEADERS)
    assert response.status_code == 200, response.text


def _popular(driver, database, n: int) -> list[str]:
    return [r["id"] for r in _read(driver, database, "MATCH (i:Item)<-[r:INTERACTED]-() "
                                   "RETURN i.id AS id, count(r) AS n ORDER BY n DESC, id LIMIT $n", n=n)]


def test_a_new_users_first_interactions_give_model_recommendations_with_explanations(trained, client):
    driver, database, version, _ = trained
    liked = _popular(driver, database, 3)
    _rate(client, "newcomer", liked)
    body = client.get("/v1/users/newcomer/recommendations", params={"k": 5, "explain": "true"}).json()
    assert body["strategy"] == "model" and body["live"] is True and body["model"] == version
    assert len(body["items"]) == 5 and not {i["item_id"] for i in body["items"]} & set(liked)
    assert all(item["explanations"] for item in body["items"])
    # the evidence is the user's own interactions: every path starts at one of them
    assert all(path["nodes"][1]["id"] in liked for item in body["items"] for path in item["explanations"])
    # written through: Cypher shows what the API served
    stored = library.recommendations(driver, database, "newcomer", k=5)
    assert [r.item_id for r in stored] == [i["item_id"] for i in body["items"]] and all(r.live for r in stored)
    embedding = _read(driver, database, "MATCH (u:User {id: 'newcomer'}), (m:Model {active: true}) "
                      "RETURN u[m.embedding_property] AS e")[0]["e"]
    assert embedding is not None and len(embedding) > 0
    again = client.get("/v1/users/newcomer/recommendations", params={"k": 5}).json()
    assert [i["item_id"] for i in again["items"]] == [i["item_id"] for i in body["items"]]


def test_a_live_list_explained_once_is_read_from_its_edges_afterwards(trained, client):
    """The paths computed for an explained live list are kept on its RECOMMENDED edges, so the
    next explained request reads them; a new interaction replaces the list and its paths."""
    driver, database, version, _ = trained
    liked = _popular(driver, database, 5)
    _rate(client, "explained-twice", liked[:3])
    first = client.get("/v1/users/explained-twice/recommendations", params={"k": 5, "explain": "true", "paths": 2}).json()
    kept = {r["item"]: r["explanations"] for r in _read(
        driver, database, "MATCH (:User {id: 'explained-twice'})-[rec:RECOMMENDED]->(i:Item) "
        "RETURN i.id AS item, rec.explanations AS explanations")}
    shown = [item["item_id"] for item in first["items"]]
    assert all(kept[item] is not None for item in shown)
    assert sum(value is None for value in kept.values()) == len(kept) - len(shown)  # only the items asked for
    second = client.get("/v1/users/explained-twice/recommendations", params={"k": 5, "explain": "true", "paths": 2}).json()
    assert second == first
    _rate(client, "explained-twice", liked[3:5], ts=1_900_000_100)
    third = client.get("/v1/users/explained-twice/recommendations", params={"k": 5, "explain": "true", "paths": 2}).json()
    assert any(path["nodes"][1]["id"] in liked[3:5] for item in third["items"] for path in item["explanations"])


def test_a_live_lists_co_interaction_paths_state_the_graph_the_model_was_trained_on(trained, client):
    """A live list is written through with the co-raters of its evidence, counted in the graph
    the model was trained on (the interactions that carry its attention; ratings posted since,
    by this module's other users, are not among them): each co-interaction path gives that
    count and draws the co-rater whose two interactions weigh most, ties to the smallest id."""
    driver, database, version, _ = trained
    _rate(client, "counted", _popular(driver, database, 6)[2:6])
    body = client.get("/v1/users/counted/recommendations", params={"k": 8, "explain": "true", "paths": 3}).json()
    assert body["live"]
    assert all(r["counted"] for r in _read(driver, database, "MATCH (:User {id: 'counted'})-[r:RECOMMENDED]->() "
                                           "RETURN r.evidence_co_raters IS NOT NULL AS counted"))
    kept = library.recommendations(driver, database, "counted", k=8, paths=3)  # as stored, co-rater drawn
    paths = [p for rec in kept for p in rec.explanations if p.shape == "co_interaction"]
    assert paths and [p.others for p in paths] == [p["others"] for item in body["items"]
                                                   for p in item["explanations"] if p["shape"] == "co_interaction"]
    for path in paths:
        evidence, drawn, target = path.nodes[1].id, path.nodes[2].id, path.nodes[3].id
        raters = _read(driver, database,
                       "MATCH (m:Model {active: true}) "
                       "MATCH (:Item {id: $evidence})<-[c:INTERACTED]-(v:User)-[b:INTERACTED]->(:Item {id: $target}) "
                       "WHERE c[m.attention_property] IS NOT NULL AND b[m.attention_property] IS NOT NULL "
                       "RETURN v.id AS v ORDER BY c[m.attention_property] * b[m.attention_property] DESC, v.id",
                       evidence=evidence, target=target)
        assert (path.others, drawn) == (len(raters), raters[0]["v"])


def test_an_explanation_request_folds_a_changed_user_in_first(trained, client):
    driver, database, version, _ = trained
    popular = _popular(driver, database, 4)
    _rate(client, "explainer", popular[:3])
    body = client.get(f"/v1/users/explainer/recommendations/{popular[3]}/explanation").json()
    stored = library.recommendations(driver, database, "explainer", k=100)
    assert stored and all(r.live and r.model == version for r in stored)
    assert body["in_top_k"] == (popular[3] in [r.item_id for r in stored])
    assert body["paths"] and all(path["nodes"][1]["id"] in popular[:3] for path in body["paths"])


def test_a_current_list_is_served_with_one_query(trained, client, monkeypatch):
    """A list that is current (trained, or live and unchanged since) comes back with the state
    query that says so; explained, its stored paths come with it too."""
    driver, database, _, _ = trained
    _rate(client, "one-query", _popular(driver, database, 3))
    first = client.get("/v1/users/one-query/recommendations", params={"k": 5, "explain": "true"}).json()
    queries = []
    read = library._read
    monkeypatch.setattr(library, "_read", lambda *args, **kwargs: queries.append(args[2]) or read(*args, **kwargs))
    for user, params in (("u7", {"k": 5}), ("one-query", {"k": 5}), ("one-query", {"k": 5, "explain": "true"})):
        queries.clear()
        body = client.get(f"/v1/users/{user}/recommendations", params=params).json()
        assert body["strategy"] == "model" and len(body["items"]) == 5
        assert queries == ["recommendation_state"], (user, params, queries)
    assert body == first


def test_new_interactions_change_an_existing_users_list(trained, client):
    before = client.get("/v1/users/u1/recommendations", params={"k": 10}).json()
    assert before["strategy"] == "model" and before["live"] is False  # the list the training wrote
    top = [item["item_id"] for item in before["items"][:4]]
    _rate(client, "u1", top)
    after = client.get("/v1/users/u1/recommendations", params={"k": 10}).json()
    assert after["strategy"] == "model" and after["live"] is True
    assert not set(top) & {item["item_id"] for item in after["items"]}
    assert [i["item_id"] for i in after["items"]] != [i["item_id"] for i in before["items"]]


def test_the_live_list_equals_the_frozen_models_offline_list_for_the_same_history(trained, client):
    driver, database, version, folder = trained
    _rate(client, "u2", _popular(driver, database, 12)[6:12])
    served = client.get("/v1/users/u2/recommendations", params={"k": 10}).json()
    assert served["live"] is True
    checkpoint = _read(driver, database, "MATCH (m:Model {active: true}) RETURN m.checkpoint AS c")[0]["c"]
    frozen = load_frozen(Path(checkpoint), models_root=folder)
    columns, _ = pull_graph(driver, database)
    assert columns.node_ids[ITEM].tolist() == frozen.item_ids.tolist()
    user = int(np.flatnonzero(columns.node_ids[USER] == "u2")[0])
    items, scores = ranked(frozen.model, histories_from_columns(columns, users=np.array([user])), 10)
    assert [i["item_id"] for i in served["items"]] == frozen.item_ids[items[0]].tolist()
    assert np.allclose([i["score"] for i in served["items"]], scores[0], atol=1e-5)


def test_the_live_list_carries_the_write_backs_channel_attribution(trained, client):
    """Folded in from the same history, a trained user's list, evidence, channel parts and
    co-raters equal what the write-back stored; written through, the explanation reads them the
    same way."""
    driver, database, version, folder = trained
    stored = _read(driver, database,
                   "MATCH (:User {id: 'u5'})-[r:RECOMMENDED {model: $v}]->(i) RETURN i.id AS item, "
                   "r.evidence AS evidence, r.evidence_channels AS parts, r.evidence_links AS links, "
                   "r.evidence_co_raters AS co_raters, r.evidence_co_rater AS co_rater ORDER BY r.rank", v=version)
    history = [r.data() for r in _read(driver, database, "MATCH (:User {id: 'u5'})-[r:INTERACTED]->(i) "
                                       "RETURN i.id AS item_id, r.rating AS rating, r.ts AS ts")]
    checkpoint = _read(driver, database, "MATCH (m:Model {active: true}) RETURN m.checkpoint AS c")[0]["c"]
    live = fold_in(load_frozen(Path(checkpoint), models_root=folder), history, k=10)
    assert live.items == [r["item"] for r in stored]
    assert live.evidence == [r["evidence"] for r in stored]
    assert any(link for r in stored for link in r["links"]), "the sample's recommendations share genres and tags"
    for channels, row in zip(live.channels, stored):
        assert channels["evidence_links"] == row["links"]
        assert (channels["evidence_co_raters"], channels["evidence_co_rater"]) == (row["co_raters"], row["co_rater"])
        assert np.allclose(channels["evidence_channels"], row["parts"], atol=1e-6)
    state = library.recommendation_state(driver, database, "u5")
    library.store_live_recommendations(driver, database, "u5", live, state.embedding_property)
    body = client.get("/v1/users/u5/recommendations", params={"k": 3, "explain": "true", "paths": 1}).json()
    for item, row in zip(body["items"], stored):
        top = item["explanations"][0]
        assert top["source"] == "model_contribution"
        at = row["evidence"].index(top["nodes"][1]["id"])  # the first liked evidence with a path
        parts = {"collaborative": row["parts"][2 * at]}
        if row["links"][at]:
            relation, entity = row["links"][at].split(":", 1)
            parts[relation, entity] = row["parts"][2 * at + 1]
        channel = "collaborative" if top["shape"] == "co_interaction" else (
            top["relationships"][1]["type"], top["nodes"][2]["id"])
        assert top["weight"] == pytest.approx(parts[channel]) == pytest.approx(max(parts.values()))
        assert top["share"] == pytest.approx(top["weight"] / item["score"])


def test_concurrent_fold_ins_of_one_user_leave_one_list(trained, client):
    driver, database, version, _ = trained
    _rate(client, "u3", _popular(driver, database, 2))
    state = library.recommendation_state(driver, database, "u3")
    frozen = client.app.state.live_models.get(state.version, state.checkpoint)
    live = fold_in(frozen, state.history, k=10)
    with ThreadPoolExecutor(4) as pool:
        stored = list(pool.map(lambda _: library.store_live_recommendations(
            driver, database, "u3", live, state.embedding_property, timeout=60), range(8)))
    assert all(s is not None and [r.item_id for r in s] == live.items for s in stored)
    edges = _read(driver, database, "MATCH (:User {id: 'u3'})-[r:RECOMMENDED {model: $v}]->(i) "
                  "RETURN i.id AS item ORDER BY r.rank", v=version)
    assert [e["item"] for e in edges] == live.items
    assert library.recommendation_state(driver, database, "u3").current


def test_users_with_only_unknown_items_get_the_marked_fallback(trained, client):
    driver, database, _, _ = trained
    _read(driver, database, "CREATE (:Item {id: 'added-after-training', title: 'Brand new'})")
    try:
        _rate(client, "stranger", ["added-after-training"])
        body = client.get("/v1/users/stranger/recommendations", params={"k": 5}).json()
        assert body["strategy"] == "fallback" and body["model"] is None and body["live"] is False
        assert len(body["items"]) == 5
    finally:
        _read(driver, database, "MATCH (n) WHERE n.id IN ['added-after-training', 'stranger'] DETACH DELETE n")


def test_a_rating_posted_without_a_time_counts_as_the_users_newest(trained, client):
    """Before, an interaction posted without ``ts`` was stored without one and folded in as the
    user's oldest, where the model's recency weighting gives it the least say: a user with 200
    timestamped ratings rated three films 5 stars and 0 of their 10 items changed."""
    driver, database, _, _ = trained
    # the longest history among users no other test has touched (their list is the training's)
    user = _read(driver, database, "MATCH (u:User)-[r:INTERACTED]->() WHERE u.recommended_history IS NOT NULL "
                 "AND NOT EXISTS { (u)-[:RECOMMENDED {live: true}]->() } "
                 "RETURN u.id AS id, count(r) AS n ORDER BY n DESC, id LIMIT 1")[0]["id"]
    before = client.get(f"/v1/users/{user}/recommendations", params={"k": 10}).json()
    assert before["live"] is False
    state = library.recommendation_state(driver, database, user)
    history = [{"item_id": e["item_id"], "rating": e["rating"], "ts": e["ts"]} for e in _read(
        driver, database, "MATCH (:User {id: $u})-[r:INTERACTED]->(i) RETURN i.id AS item_id, r.rating AS rating, "
        "r.ts AS ts", u=user)]
    assert len(history) >= 20 and all(e["ts"] is not None for e in history)
    frozen = client.app.state.live_models.get(state.version, state.checkpoint)

    def lists(item: str, ts: int) -> tuple[list[str], list[str]]:
        """The frozen model's top 10 with a 5-star ``item`` as the newest and as the oldest."""
        newest = fold_in(frozen, [*history, {"item_id": item, "rating": 5.0, "ts": ts}], 10)
        oldest = fold_in(frozen, [*history, {"item_id": item, "rating": 5.0, "ts": None}], 10)
        return newest.items, oldest.items

    # An item whose place in time matters to this user's list (most do, with a long history).
    seen = {e["item_id"] for e in history} | {i["item_id"] for i in before["items"]}
    now = int(time.time())
    item = next(i for i in _popular(driver, database, 60) if i not in seen and len(set(map(tuple, lists(i, now)))) == 2)

    sent = int(time.time())
    response = client.post("/v1/interactions", headers=HEADERS,
                           json={"interactions": [{"user_id": user, "item_id": item, "rating": 5.0}]})
    assert response.status_code == 200, response.text
    after = client.get(f"/v1/users/{user}/recommendations", params={"k": 10}).json()

    stored = _read(driver, database, "MATCH (:User {id: $u})-[r:INTERACTED]->(:Item {id: $i}) RETURN r.ts AS ts",
                   u=user, i=item)[0]["ts"]
    assert stored >= sent and stored > max(e["ts"] for e in history)  # the server's time: the newest
    as_newest, as_oldest = lists(item, stored)
    served = [i["item_id"] for i in after["items"]]
    assert after["live"] is True and served == as_newest and served != as_oldest
    assert served != [i["item_id"] for i in before["items"]]


def test_a_new_item_goes_live_from_its_links_and_one_without_is_refused(trained, client, neo4j_settings,
                                                                        monkeypatch, capsys):
    """``kgrec items add`` on an item created after training with the links of an existing one:
    it gets an embedding, a new user who liked that one finds it in their live list, explained
    through a shared entity; an item with no link is not recommendable, and the command says why."""
    from kgrec.cli import main

    driver, database, version, folder = trained
    # a film whose creator made the fewest others: the shared creator is a strong link (a
    # knowledge message is divided by the entity's degree)
    twin = _read(driver, database, "MATCH (x:Item)-[:DIRECTED_BY]->(p:Person) WHERE EXISTS { (x)<-[:INTERACTED]-() } "
                                   "RETURN x.id AS id ORDER BY COUNT { (p)<-[:DIRECTED_BY]-() }, id LIMIT 1")[0]["id"]
    _read(driver, database, "CREATE (:Item {id: 'new-film', title: 'New Film'}), (:Item {id: 'bare-film'})")
    for (head, rel, tail), entity in library.item_links(driver, database, [twin])[twin]:
        assert head == ITEM  # the sample's knowledge relationships go from the item
        _read(driver, database, f"MATCH (i:Item {{id: 'new-film'}}), (e:{tail} {{id: $entity}}) "
                                f"CREATE (i)-[:{rel}]->(e)", entity=entity)
    for name, value in (("NEO4J_URI", neo4j_settings.uri), ("NEO4J_USER", neo4j_settings.user),
                        ("NEO4J_PASSWORD", neo4j_settings.password), ("NEO4J_DATABASE", neo4j_settings.database),
                        ("KGREC_HOME", str(folder.parent))):
        monkeypatch.setenv(name, value)

    assert main(["items", "add", "new-film", "bare-film"]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"new-film: recommendable from its links by model {version}; embedding written"]
    assert "'bare-film' has no link to a genre, creator, tag or other entity" in err.splitlines()[-1]
    embedding = _read(driver, database, "MATCH (i:Item {id: 'new-film'}), (m:Model {active: true}) "
                                        "RETURN i[m.embedding_property] AS e")[0]["e"]
    assert embedding is not None and len(embedding) > 0

    _rate(client, "fan-of-twin", [twin])
    body = client.get("/v1/users/fan-of-twin/recommendations", params={"k": 10, "explain": "true"}).json()
    assert body["live"] is True and body["model"] == version
    found = [item for item in body["items"] if item["item_id"] == "new-film"]
    assert found, body["items"]
    path = found[0]["explanations"][0]
    assert path["nodes"][1]["id"] == twin and path["nodes"][-1]["id"] == "new-film"
    assert path["relationships"][1]["type"] != "INTERACTED"  # through a shared entity, not co-raters


def test_a_model_switch_never_mixes_versions(trained, client):
    driver, database, old_version, folder = trained
    _rate(client, "switcher", _popular(driver, database, 3))
    first = client.get("/v1/users/switcher/recommendations").json()
    assert first["model"] == old_version and first["live"] is True
    computed_before_the_switch = LiveList(old_version, [first["items"][0]["item_id"]], [1.0], evidence=[[]],
                                          evidence_weights=[[]], channels=[{}], embedding=None, history=3)

    new_version, _ = train_and_publish(driver, database, TrainConfig(seed=2), top_k=10, progress=False,
                                       model_dir=folder)
    # a list the old model computed, arriving after the switch, is not written
    assert library.store_live_recommendations(driver, database, "switcher", computed_before_the_switch,
                                              "embedding_a") is None
    _rate(client, "switcher", _popular(driver, database, 5)[3:5])
    after = client.get("/v1/users/switcher/recommendations").json()
    assert after["model"] == new_version and after["live"] is True
    versions = _read(driver, database, "MATCH (:User {id: 'switcher'})-[r:RECOMMENDED]->() "
                     "RETURN collect(DISTINCT r.model) AS v")[0]["v"]
    assert versions == [new_version]
