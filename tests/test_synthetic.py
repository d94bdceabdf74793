"""The synthetic sample: schema, determinism, size knob, planted structure."""

import time

import numpy as np

from kgrec.loaders.synthetic import generate_sample


def test_schema_and_references():
    g = generate_sample(n_users=200, seed=3)
    assert set(g.interactions.columns) >= {"user_id", "item_id", "weight", "rating", "ts"}
    assert g.interactions["user_id"].isin(g.users["id"]).all()
    assert g.interactions["item_id"].isin(g.items["id"]).all()
    assert not g.interactions.duplicated(["user_id", "item_id"]).any()
    assert g.interactions["rating"].between(1, 5).all()
    assert g.items["title"].str.len().gt(3).all() and g.users["name"].str.contains(" ").all()
    parents = g.categories.dropna(subset=["parent"])
    assert len(parents) > 0 and parents["parent"].isin(g.categories["id"]).all()
    assert set(g.triples["relation"]) == {"DIRECTED_BY", "HAS_TAG"}
    assert set(g.entities["label"]) == {"Person", "Tag"}
    heads_ok = g.triples["head_id"].isin(g.items["id"]).all()
    tails_ok = g.triples["tail_id"].isin(g.entities["id"]).all()
    assert heads_ok and tails_ok
    assert (g.interactions.groupby("user_id").size() >= 3).all()


def test_deterministic_per_seed():
    a, b, c = generate_sample(n_users=150, seed=1), generate_sample(n_users=150, seed=1), generate_sample(n_users=150, seed=2)
    assert a.interactions.equals(b.interactions) and a.triples.equals(b.triples)
    assert not a.interactions.equals(c.interactions)


def test_size_knob_and_speed():
    started = time.perf_counter()
    g = generate_sample(n_interactions=200_000, seed=0)
    assert time.perf_counter() - started < 10
    assert 170_000 <= len(g.interactions) <= 230_000


def test_planted_structure():
    """Users return to their creators: a user's interactions share creators far more than chance."""
    g = generate_sample(n_users=500, seed=0)
    creator = g.triples[g.triples["relation"] == "DIRECTED_BY"].set_index("head_id")["tail_id"]
    inter = g.interactions.assign(creator=g.interactions["item_id"].map(creator))
    repeat = 1 - inter.groupby("user_id")["creator"].nunique() / inter.groupby("user_id").size()
    shuffled = inter.assign(creator=np.random.default_rng(0).permutation(inter["creator"].to_numpy()))
    chance = 1 - shuffled.groupby("user_id")["creator"].nunique() / shuffled.groupby("user_id").size()
    assert repeat.mean() > chance.mean() + 0.05
    popularity = g.interactions["item_id"].value_counts()
    assert popularity.iloc[: len(popularity) // 10].sum() > 0.25 * len(g.interactions)  # long tail
