"""The query library against the real server, on the small movie graph of ``data/movie_graph.cypher``.

The graph carries what the engine writes back (a :Model, RECOMMENDED edges, attention and
embeddings) with hand-set values, so each query's behaviour can be checked exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kgrec import cypher
from kgrec.serving import library

pytestmark = pytest.mark.neo4j


def _path_exists_in_graph(driver, database, path) -> bool:
    for rel in path.relationships:
        records, _, _ = driver.execute_query(
            "MATCH (a {id: $start})-[r]->(b {id: $end}) WHERE type(r) = $type RETURN count(r) AS n",
            start=rel.start, end=rel.end, type=rel.type, database_=database)
        if records[0]["n"] != 1:
            return False
    ids = [n.id for n in path.nodes]
    hops = list(zip(ids, ids[1:]))
    return all({rel.start, rel.end} == set(hop) for rel, hop in zip(path.relationships, hops))


def test_recommendations_read_only_the_active_model(movie_graph):
    recs = library.recommendations(*movie_graph, "u1", k=10)
    assert [(r.item_id, r.rank, r.model) for r in recs] == [("dune", 1, "v2"), ("nh", 2, "v2")]
    assert recs[0].title == "Dune" and recs[0].score == pytest.approx(0.9)
    assert library.recommendations(*movie_graph, "u2", k=10) == []
    assert library.recommendation_for(*movie_graph, "u1", "nh").rank == 2
    assert library.recommendation_for(*movie_graph, "u1", "alien") is None


def test_explanation_paths_are_real_start_at_user_end_at_item_and_are_ordered(movie_graph):
    driver, database = movie_graph
    paths = library.explanation_paths(driver, database, "u1", "dune", limit=10)
    # One explanation per evidence item. Without stored channel parts the collaborative channel
    # comes first (it carries most of the published model's scores): u2 also rated Alien and
    # Dune. Nobody rated both Blade Runner and Dune, which share no category: the category chain.
    assert [(p.evidence, p.shape) for p in paths] == [("alien", "co_interaction"), ("br", "category_hierarchy")]
    for path in paths:
        assert path.nodes[0].id == "u1" and path.nodes[-1].id == "dune"
        assert len(path.relationships) <= 4
        assert all(r.type != "RECOMMENDED" for r in path.relationships)
        assert _path_exists_in_graph(driver, database, path)
        assert path.sentence.startswith("Because you rated *") and path.source == "first_order_estimate"
    weights = [p.weight for p in paths]
    assert weights == sorted(weights, reverse=True) and weights[0] > 0


def test_explanation_weight_follows_the_model_evidence(movie_graph):
    driver, database = movie_graph
    best = library.explanation_paths(driver, database, "u1", "dune", limit=1)[0]
    # Alien carries u1's higher attention (0.7 vs 0.3) and is closer to Dune in embedding space.
    assert best.nodes[1].id == "alien"
    driver.execute_query("MATCH (:User {id: 'u1'})-[r:INTERACTED]->(i:Item) "
                         "SET r.attention = CASE i.id WHEN 'br' THEN 0.99 ELSE 0.01 END", database_=database)
    assert library.explanation_paths(driver, database, "u1", "dune", limit=1)[0].nodes[1].id == "br"


def test_limit_and_shared_entity_shape(movie_graph):
    driver, database = movie_graph
    assert len(library.explanation_paths(driver, database, "u2", "br", limit=1)) == 1
    paths = library.explanation_paths(driver, database, "u2", "br", limit=10)
    # u2 rated Alien 4, below their mean of 4.5: it comes after Dune and is not given as a reason.
    assert [(p.evidence, p.shape, p.disliked) for p in paths] == [
        ("dune", "category_hierarchy", False), ("alien", "co_interaction", True)]
    assert [p.sentence for p in paths] == [
        "Because you rated *Dune* (5★), which is in *Space Opera*; *Space Opera* is a kind of *Sci-Fi*, "
        "and *Blade Runner* is in *Sci-Fi*.",
        "You rated *Alien*; 1 other person who rated *Alien* also rated *Blade Runner*.",
    ]
    # Without a co-rater, the knowledge path: Sci-Fi (attention 0.5 x 0.5) before Ridley Scott (0.6 x 0.4).
    driver.execute_query("MATCH (:User {id: 'u1'})-[r:INTERACTED]->(:Item {id: 'alien'}) DELETE r", database_=database)
    alien = library.explanation_paths(driver, database, "u2", "br", limit=10)[1]
    assert alien.sentence == "You rated *Alien*, which is also in *Sci-Fi*, like *Blade Runner*."


def test_recommendations_with_explanations_in_one_call(movie_graph):
    recs = library.recommendations(*movie_graph, "u1", k=10, paths=2)
    by_item = {r.item_id: r for r in recs}
    assert len(by_item["dune"].explanations) == 2
    assert by_item["nh"].explanations == []  # nothing in u1's history leads to Romance


def test_browser_form_returns_drawable_paths(movie_graph):
    driver, database = movie_graph
    records, _, _ = driver.execute_query(cypher.load("explain"), user_id="u1", item_ids=[], k=5, paths=1,
                                         draw=True, database_=database)
    assert records and all(r["path"] is not None for r in records)
    assert records[0]["path"].start_node["id"] == "u1" and records[0]["path"].end_node["id"] == "dune"


def test_fallback_prefers_the_users_categories_and_skips_seen_items(movie_graph):
    driver, database = movie_graph
    assert [r.item_id for r in library.fallback_recommendations(driver, database, "u3", k=10)] == ["br", "dune", "nh"]
    unknown = library.fallback_recommendations(driver, database, "nobody", k=2)
    assert [r.item_id for r in unknown] == ["alien", "br"]  # overall popularity (3, 1 ... ties by id)
    assert [r.rank for r in unknown] == [1, 2]


def test_embedding_recommendations_and_similar_items_use_the_vector_index(movie_graph):
    driver, database = movie_graph
    driver.execute_query("MATCH (u:User {id: 'u3'}) SET u.embedding = [1.0, 0.2, 0.1, 0.0]", database_=database)
    live = library.embedding_recommendations(driver, database, "u3", k=2)
    assert [r.item_id for r in live] == ["br", "dune"]  # nearest unseen (Alien is seen)
    similar = library.similar_items(driver, database, "alien", k=2)
    assert [s.item_id for s in similar] == ["br", "dune"]
    assert {n.id for n in similar[0].shared} == {"scifi", "scott"}


def test_record_interactions_is_all_or_nothing(movie_graph):
    driver, database = movie_graph
    assert library.record_interactions(driver, database, [
        {"user_id": "new", "item_id": "dune", "rating": 4.0}, {"user_id": "u3", "item_id": "br"}]) == 2
    with pytest.raises(library.UnknownItemError, match="nope"):
        library.record_interactions(driver, database, [
            {"user_id": "u9", "item_id": "dune"}, {"user_id": "u9", "item_id": "nope"}])
    records, _, _ = driver.execute_query(
        "MATCH (u:User)-[r:INTERACTED]->(i:Item) WHERE u.id IN ['new', 'u3', 'u9'] "
        "RETURN u.id AS u, i.id AS i, r.weight AS w ORDER BY u, i", database_=database)
    assert [(r["u"], r["i"], r["w"]) for r in records] == [
        ("new", "dune", 4.0), ("u3", "alien", 3.0), ("u3", "br", 1.0)]


def test_active_model_and_existence(movie_graph):
    model = library.active_model(*movie_graph)
    assert model.version == "v2" and model.params == {"dim": 4} and model.metrics == {"ndcg@20": 0.5}
    assert (model.embedding_property, model.item_index) == ("embedding", "item_embedding")
    assert library.user_exists(*movie_graph, "u1") and not library.user_exists(*movie_graph, "zz")
    assert library.item_exists(*movie_graph, "dune") and not library.item_exists(*movie_graph, "zz")


def test_every_query_file_documents_its_parameters():
    for entry in cypher.query_files().values():
        text = entry.read_text()
        header = "\n".join(line for line in text.splitlines() if line.startswith("//"))
        assert re.match(rf"// {entry.name[:-7]}\b", header), f"{entry.name}: header must start with its name"
        for param in set(re.findall(r"\$([a-z_]+)", text)):
            assert f"${param}" in header, f"{entry.name}: ${param} is not documented"


def test_the_queries_the_readme_tells_people_to_paste_are_the_public_ones():
    """The README's Browser guide names the public queries; every one is in ``public/``, and
    ``public/`` holds nothing a person is not meant to paste (no writes)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    public = {name for name, entry in cypher.query_files().items() if entry.parent.name == "public"}
    named = set(re.findall(r"`([a-z_]+)`", readme.split("## Cypher and Neo4j Browser")[1].split("## HTTP API")[0]))
    assert named & set(cypher.query_files()) <= public and "explain" in public
    for name in public:
        assert not re.search(r"\b(CREATE|MERGE|SET|DELETE|REMOVE)\b", cypher.load(name)), name


def test_sentence_templates_per_shape():
    from kgrec.serving.results import ExplanationPath, PathNode, PathRelationship
    from kgrec.serving.sentences import sentence

    def path(shape, names, rels, **fields):
        nodes = [PathNode(label="X", id=n.lower(), name=n) for n in names]
        return ExplanationPath(nodes=nodes, weight=1.0, shape=shape, **fields, relationships=[
            PathRelationship(type=t, start=a.lower(), end=b.lower(), rating=r) for t, a, b, r in rels])

    rated = [("INTERACTED", "Ann", "Alien", 5.0), ("INTERACTED", "Bob", "Alien", 4.0), ("INTERACTED", "Bob", "Dune", 5.0)]
    co = path("co_interaction", ["Ann", "Alien", "Bob", "Dune"], rated, others=14)
    assert sentence(co) == "Because you rated *Alien* (5★), and 14 other people who rated *Alien* also rated *Dune*."
    disliked = path("co_interaction", ["Ann", "Alien", "Bob", "Dune"], [("INTERACTED", "Ann", "Alien", 1.0)] + rated[1:],
                    others=14, disliked=True)
    assert sentence(disliked) == "You rated *Alien*; 14 other people who rated *Alien* also rated *Dune*."
    implicit = path("co_interaction", ["Ann", "Alien", "Bob", "Dune"],
                    [("INTERACTED", "Ann", "Alien", None), ("INTERACTED", "Bob", "Alien", None),
                     ("INTERACTED", "Bob", "Dune", None)], others=1)
    assert sentence(implicit) == "Because you chose *Alien*, and 1 other person who chose *Alien* also chose *Dune*."
    mixed = path("shared_entity", ["Ann", "Alien", "Ridley Scott", "Dune"],
                 [("INTERACTED", "Ann", "Alien", 5.0), ("DIRECTED_BY", "Alien", "Ridley Scott", None),
                  ("PRODUCED_BY", "Dune", "Ridley Scott", None)])
    assert sentence(mixed) == ("Because you rated *Alien* (5★), which is directed by *Ridley Scott*; "
                               "*Dune* is produced by *Ridley Scott* too.")


def test_stored_explanations_are_served_and_equal_the_live_ones(movie_graph):
    driver, database = movie_graph
    live = library.recommendations(driver, database, "u1", k=10, paths=1)
    assert library.store_explanations(driver, database, paths=1, progress=False) == 2
    # Change the evidence: stored paths keep being served as computed for this model...
    driver.execute_query("MATCH (:User {id: 'u1'})-[r:INTERACTED]->(i) "
                         "SET r.attention = CASE i.id WHEN 'br' THEN 0.99 ELSE 0.01 END", database_=database)
    served = library.recommendations(driver, database, "u1", k=10, paths=1)
    assert served == live and served[0].explanations[0].evidence == "alien"
    # ...asking for more paths than were stored (and more exist) computes them live.
    more = library.recommendations(driver, database, "u1", k=10, paths=2)
    assert [p.evidence for p in next(r for r in more if r.item_id == "dune").explanations] == ["br", "alien"]
    # Only the active model's edges carry them.
    records, _, _ = driver.execute_query(
        "MATCH ()-[r:RECOMMENDED]->() RETURN r.model AS model, r.explanations IS NOT NULL AS stored",
        database_=database)
    assert {(r["model"], r["stored"]) for r in records} == {("v2", True), ("v1", False)}
