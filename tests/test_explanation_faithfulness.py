"""Explanations are faithful to the trained model: the full pipeline on the real server.

Load a small sample, train the attention model through ``train_and_publish``, then run the
measures of ``kgrec eval --explanations`` with the frozen model (nothing retrained), twice:

- as published: the write-back stores each recommendation's evidence and contributions;
- without them (an older model): the first-order estimate ranks the evidence;
- after storing, on the sampled users' RECOMMENDED edges, the evidence a decomposable model's
  write-back stores: each recommendation's top-10 history items by their exact leave-one-out
  score drop (:func:`leave_one_out_evidence`). The explanations must then go through that
  evidence in its order, carry its stored weight, and beat a random valid path (goal: 2x). (The
  measured drop equals the stored weight there by construction, so the gap between them is
  checked on the published evidence, where it is not.)
"""

from __future__ import annotations

import pytest

from kgrec.serving import library
from kgrec.engine.evaluation.faithfulness import HistoryScorer, evaluate, leave_one_out_evidence, sample_users
from kgrec.engine.neo4j.persist import load_active
from kgrec.engine.pipeline import train_and_publish
from kgrec.engine.training.config import TrainConfig
from kgrec.loaders import write_graph
from kgrec.loaders.synthetic import generate_sample

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def trained(neo4j_driver, neo4j_database, tmp_path_factory):
    from conftest import wipe_database

    wipe_database(neo4j_driver, neo4j_database)
    write_graph(neo4j_driver, generate_sample(n_users=300, seed=1), database=neo4j_database, progress=False)
    models = tmp_path_factory.mktemp("models")
    train_and_publish(neo4j_driver, neo4j_database, TrainConfig(seed=0), progress=False, model_dir=models)
    model, columns, _ = load_active(neo4j_driver, neo4j_database, models)
    return neo4j_driver, neo4j_database, HistoryScorer(model, columns)


def _assert_readable(report, users: int, disliked_at_most: float = 0.01) -> None:
    assert report.recommendations == 10 * users
    assert report.coverage >= 0.99, report.table()
    assert report.duplicate_sentences == 0, report.table()
    assert report.disliked_top_share <= disliked_at_most, report.table()
    assert report.knowledge_graph_share > 0, report.table()


def test_published_evidence_ranks_the_explanations(trained):
    driver, database, scorer = trained
    report = evaluate(driver, database, scorer, sample_users(driver, database, 20, seed=1), k=10)
    print(report.table())
    # The write-back stores each recommendation's evidence; the explanations go through it.
    assert report.sources == {"model_contribution": report.explained}
    # The stored contribution is exact for the whole history; removing the interaction also
    # renormalises the user's attention, so the measured drop differs, but by far less than the
    # drop itself (measured: 0.0010 against 0.0034).
    assert report.contribution_gap < 0.5 * report.chosen["mean_score_drop"], report.table()
    _assert_readable(report, 20)
    assert report.chosen["mean_score_drop"] > report.random["mean_score_drop"] > 0, report.table()
    # Each top explanation is the path of its evidence's largest channel (recomputed from the
    # frozen model, not read from the edge), and a knowledge path is shown only where it is.
    assert report.largest_channel_shown == 1.0, report.table()
    assert 0 < report.channel_fidelity <= 1, report.table()


def test_co_raters_counted_at_write_back_give_the_paths_the_graph_gives(trained):
    """The write-back counts each explained pair's co-raters and names the one to draw; the
    explanations read from them are the ones the query finds by joining in the graph."""
    driver, database, _ = trained
    users = sample_users(driver, database, 15, seed=2)
    counted = {user: library.recommendations(driver, database, user, k=10, paths=3) for user in users}
    records, _, _ = driver.execute_query(
        "MATCH (u:User)-[r:RECOMMENDED]->() WHERE u.id IN $users WITH r, r.evidence_co_rater IS NOT NULL AS counted "
        "REMOVE r.evidence_co_raters, r.evidence_co_rater, r.explanations "
        "RETURN count(r) AS edges, sum(toInteger(counted)) AS counted", users=users, database_=database)
    assert records[0]["counted"] == records[0]["edges"] > 0
    joined = {user: library.recommendations(driver, database, user, k=10, paths=3) for user in users}
    co_interaction = [p for recs in counted.values() for rec in recs for p in rec.explanations
                      if p.shape == "co_interaction"]
    assert len(co_interaction) > 50 and any(p.others > 1 for p in co_interaction)
    assert {u: [r.model_dump() for r in recs] for u, recs in counted.items()} == \
        {u: [r.model_dump() for r in recs] for u, recs in joined.items()}


def test_items_without_interactions_are_recommended_and_explained_through_their_links(trained):
    """An item nobody interacted with has no collaborative part at all: its score is its
    knowledge links', so its explanation is a knowledge-graph path naming the entity whose link
    carries the largest part, with that part as its weight."""
    driver, database, scorer = trained
    records, _, _ = driver.execute_query(
        "MATCH (m:Model {active: true}) MATCH (u:User)-[r:RECOMMENDED]->(i:Item) "
        "WHERE r.model = m.version AND NOT EXISTS { (i)<-[:INTERACTED]-() } "
        "RETURN u.id AS user, i.id AS item, r.score AS score ORDER BY u.id, r.rank LIMIT 5", database_=database)
    assert records, "the sample has items without interactions in some user's top-10"
    for record in records:
        paths = library.explanation_paths(driver, database, record["user"], record["item"], limit=1)
        top = paths[0]
        assert (top.shape, top.channel, top.source) == ("shared_entity", "knowledge", "model_contribution")
        parts = scorer.channel_parts(record["user"], top.evidence, record["item"])
        assert parts["collaborative"] == pytest.approx(0.0, abs=1e-9)
        link = (top.relationships[1].type, top.nodes[2].id)
        assert top.weight == pytest.approx(parts[link], rel=1e-4)
        assert parts[link] == max(parts.values())
        assert top.share == pytest.approx(top.weight / record["score"])


def test_first_order_explanations_without_stored_evidence(trained):
    driver, database, scorer = trained
    driver.execute_query("MATCH ()-[r:RECOMMENDED]->() REMOVE r.evidence, r.evidence_weights, r.explanations, "
                         "r.evidence_channels, r.evidence_links, r.evidence_co_raters, r.evidence_co_rater",
                         database_=database)
    report = evaluate(driver, database, scorer, sample_users(driver, database, 20, seed=1), k=10)
    print(report.table())
    assert report.sources == {"first_order_estimate": report.explained}
    assert report.contribution_gap is None
    _assert_readable(report, 20)


def test_stored_contributions_rank_the_evidence_and_beat_random_paths_twice_over(trained):
    driver, database, scorer = trained
    users = sample_users(driver, database, 40, seed=0)
    histories = {u: [r["item"] for r in driver.execute_query(
        "MATCH (:User {id: $u})-[:INTERACTED]->(i:Item) RETURN i.id AS item ORDER BY item", u=u,
        database_=database).records] for u in users}
    rows = []
    for user in users:
        items = [r.item_id for r in library.recommendations(driver, database, user, k=10)]
        for item, (evidence, weights) in leave_one_out_evidence(scorer, user, histories[user], items).items():
            rows.append({"user": user, "item": item, "evidence": evidence, "weights": weights})
    driver.execute_query(
        "MATCH (m:Model {active: true}) UNWIND $rows AS row "
        "MATCH (:User {id: row.user})-[rec:RECOMMENDED]->(:Item {id: row.item}) WHERE rec.model = m.version "
        "SET rec.evidence = row.evidence, rec.evidence_weights = row.weights "
        # leave-one-out drops have no channel split: the stored one belongs to other evidence
        "REMOVE rec.evidence_channels, rec.evidence_links, rec.evidence_co_raters, rec.evidence_co_rater, "
        "rec.explanations", rows=rows, database_=database)

    report = evaluate(driver, database, scorer, users, k=10)
    print(report.table())
    assert report.sources == {"model_contribution": report.explained}
    # Measured 1.5%: for 6 of 400 items the only positive evidence with a path among the top-10
    # leave-one-out drops is an interaction the user disliked; its sentence then says what happened.
    _assert_readable(report, 40, disliked_at_most=0.03)
    assert report.distinct_evidence_per_user > 1
    # The goal is 2x (measured 12.6x here).
    assert report.chosen["mean_score_drop"] >= 2 * report.random["mean_score_drop"], report.table()
    assert report.chosen["pn_at_k"] > report.random["pn_at_k"], report.table()
    assert report.chosen["ps_at_k"] >= report.random["ps_at_k"], report.table()

    # What a person reads follows the stored order: the first liked piece of evidence with a path.
    rec = library.recommendations(driver, database, users[0], k=1, paths=3)[0]
    stored = next(r for r in rows if r["user"] == users[0] and r["item"] == rec.item_id)
    liked = [p for p in rec.explanations if not p.disliked]
    assert [p.evidence for p in liked] == [e for e in stored["evidence"] if e in {p.evidence for p in liked}]
    for path in rec.explanations:
        assert path.weight == pytest.approx(stored["weights"][stored["evidence"].index(path.evidence)])


def test_stored_explanations_come_from_the_trained_model(trained):
    driver, database, _ = trained
    assert library.store_explanations(driver, database, paths=2, progress=False) > 0
    model = library.active_model(driver, database)
    records, _, _ = driver.execute_query(
        "MATCH (u:User)-[r:RECOMMENDED]->() WHERE r.model = $v RETURN u.id AS id LIMIT 1", v=model.version,
        database_=database)
    recs = library.recommendations(driver, database, records[0]["id"], k=5, paths=2)
    for rec in recs:
        assert len({(p.evidence, p.channel) for p in rec.explanations}) == len(rec.explanations)
        assert len({p.evidence for p in rec.explanations}) <= 2
        for path in rec.explanations:
            assert path.nodes[0].id == records[0]["id"] and path.nodes[-1].id == rec.item_id
            assert path.relationships[0].attention is not None  # the trained model's attention
