"""Items created after training, recommended from their knowledge links: how well, and how soon?

Protocol: ``kgrec eval``'s per-user temporal split of the whole graph. A random ``--hidden``
share of the items (seeded) is taken out of the graph entirely (nodes, links, every
interaction), as are the held-out test interactions; the model is fitted on what is left as
``kgrec train`` fits it. The hidden items are then added from their links
(:func:`kgrec.engine.new_items.add_items`), and every user with a held-out interaction with one
of them is scored from their known interactions (the API's fold-in). Measured on those
interactions: Recall@20 and NDCG@20 of the new items ranked among the new items only (which new
item will the user take?), against a genre baseline that ranks a new item by how many of the
user's known interactions share its genres, and against random; and the share of those users
with a new item in their full top-20.

With ``--neo4j``, also the time from an item's creation to its first recommendation on the
database ``KGREC_*`` point at (its active model): create an item with the links of an existing
one, ``go_live`` it (links read, model extended, vectors written), fold in a user who liked the
existing one.

    python bench/bench_new_items.py --movielens ~/.cache/kgrec-data/ml-latest-small \\
        --out bench/results/new_items.json

Prints JSON; with ``--out``, also records it (keyed by dataset).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

K = 20


def _ranking_measures(scores: np.ndarray, wanted: list[set[int]]) -> dict[str, float]:
    """Recall@K and NDCG@K (binary relevance) of each row's best ``K`` columns of ``scores``."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    recall, ndcg = [], []
    for row, relevant in zip(scores, wanted):
        top = np.argsort(-row, kind="stable")[:K]
        hits = np.array([j in relevant for j in top], float)
        recall.append(hits.sum() / len(relevant))
        ndcg.append(float(hits @ discounts[:len(hits)]) / float(discounts[:min(K, len(relevant))].sum()))
    return {"recall@20": round(float(np.mean(recall)), 4), "ndcg@20": round(float(np.mean(ndcg)), 4)}


def quality(args: argparse.Namespace) -> dict:
    import torch

    from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular
    from kgrec.engine.data.histories import history_of
    from kgrec.engine.data.split import temporal_split
    from kgrec.engine.evaluation.evaluate import fit_data
    from kgrec.engine.models.base import create
    from kgrec.engine.neo4j.persist import FrozenModel
    from kgrec.engine.new_items import ItemLink, add_items
    from kgrec.engine.training.config import TrainConfig
    from kgrec.engine.training.train import seed_everything
    from kgrec.graph_schema import CATEGORY, IN_CATEGORY, ITEM, USER
    from kgrec.loaders import read_movielens

    torch.set_num_threads(args.threads)
    graph = read_movielens(args.movielens)
    full = columns_from_tabular(graph)
    split = temporal_split(full)
    item_ids = full.node_ids[ITEM]
    hidden_ids = set(np.random.default_rng(args.seed).choice(item_ids, round(args.hidden * len(item_ids)),
                                                              replace=False).tolist())
    users, items = full.edges[INTERACTION_KEY]
    is_hidden = np.isin(item_ids[items], list(hidden_ids))
    keep = ~is_hidden & ~split.test
    inter = graph.interactions
    assert np.array_equal(pd.Index(item_ids).get_indexer(inter["item_id"].astype(str)), items), "rows out of order"
    reduced = dataclasses.replace(
        graph, interactions=inter[keep].reset_index(drop=True),
        items=graph.items[~graph.items["id"].astype(str).isin(hidden_ids)].reset_index(drop=True),
        item_categories=graph.item_categories[~graph.item_categories["item_id"].astype(str).isin(hidden_ids)],
        triples=graph.triples[~((graph.triples["head_label"] == ITEM) & graph.triples["head_id"].astype(str).isin(hidden_ids))])
    columns = columns_from_tabular(reduced)
    seed_everything(args.seed)
    started = time.perf_counter()
    model = create("attention", TrainConfig(seed=args.seed)).fit(
        fit_data(columns, temporal_split(columns, test_fraction=0.0), progress=False))
    fit_s = time.perf_counter() - started

    links = {item: [] for item in sorted(hidden_ids)}
    for key, (heads, tails) in full.edges.items():
        if key[0] == ITEM and key[2] not in (ITEM, USER):
            for head, tail in zip(item_ids[heads], full.node_ids[key[2]][tails]):
                if head in links:
                    links[head].append(ItemLink(key, str(tail)))
    frozen = FrozenModel("bench", model, np.asarray(columns.node_ids[ITEM], dtype=object))
    started = time.perf_counter()
    added = add_items(frozen, links)
    add_s = time.perf_counter() - started
    new = np.array([frozen.index[item] for item in added.item_ids])
    new_position = {index: k for k, index in enumerate(new)}

    genre_of = {}
    heads, tails = full.edges[(ITEM, IN_CATEGORY, CATEGORY)]
    for head, tail in zip(heads, tails):
        genre_of.setdefault(int(head), set()).add(int(tail))
    full_position = {item: k for k, item in enumerate(item_ids.tolist())}
    rating, ts = (full.edge_attrs[INTERACTION_KEY][name] for name in ("rating", "ts"))
    test_users = np.unique(users[split.test & is_hidden])
    model_rows, genre_rows, wanted, in_top = [], [], [], 0
    for user in test_users:
        known = np.flatnonzero((users == user) & keep)
        targets = {new_position[frozen.index[item_ids[i]]] for i in items[(users == user) & split.test & is_hidden]
                   if item_ids[i] in frozen.index}
        if len(known) == 0 or not targets:
            continue
        positions = np.array([frozen.index[item_ids[i]] for i in items[known]])
        scores = model.score(history_of(positions, ts[known], rating[known], len(frozen.item_ids)))[0].numpy()
        scores[positions] = -np.inf
        in_top += bool(set(np.argsort(-scores)[:K].tolist()) & set(new.tolist()))
        model_rows.append(scores[new])
        counts: dict[int, int] = {}
        for i in items[known]:
            for genre in genre_of.get(int(i), ()):
                counts[genre] = counts.get(genre, 0) + 1
        genre_rows.append([sum(counts.get(g, 0) for g in genre_of.get(full_position[item], ())) for item in added.item_ids])
        wanted.append(targets)
    rng = np.random.default_rng(args.seed)
    return {
        "hidden_share": args.hidden, "hidden_items": len(hidden_ids), "added": len(added.item_ids),
        "not_recommendable": len(added.not_recommendable), "users": len(wanted),
        "test_interactions": int(sum(len(w) for w in wanted)),
        "among_new_items": {"model": _ranking_measures(np.array(model_rows), wanted),
                            "genre_baseline": _ranking_measures(np.array(genre_rows, float), wanted),
                            "random": _ranking_measures(rng.random((len(wanted), len(new))), wanted)},
        "users_with_a_new_item_in_full_top20": round(in_top / len(wanted), 4) if wanted else None,
        "fit_s": round(fit_s, 1), "add_items_s": round(add_s, 2),
    }


def time_to_first_recommendation() -> dict:
    """Create an item with the links of a rated one in the database, make it live, fold in a
    user who rated that one; the seconds of each step."""
    from kgrec.config import open_driver
    from kgrec.engine.fold_in import fold_in
    from kgrec.engine.neo4j.new_items import catch_up, go_live
    from kgrec.engine.neo4j.persist import load_frozen
    from kgrec.serving import library
    from kgrec.settings import read_settings

    settings = read_settings()
    database = settings.neo4j.database
    with open_driver(settings.neo4j) as driver:
        twin = driver.execute_query("MATCH (x:Item)<-[:INTERACTED]-() WITH x, count(*) AS n ORDER BY n DESC, x.id "
                                    "LIMIT 1 RETURN x.id AS id", database_=database).records[0]["id"]
        item_id = f"bench-new-{time.time_ns()}"
        links = library.item_links(driver, database, [twin])[twin]
        try:
            started = time.perf_counter()
            driver.execute_query("CREATE (:Item {id: $id, title: 'bench new item'})", id=item_id, database_=database)
            for (_, rel, tail), entity in links:  # labels and types as the graph holds them
                query = f"MATCH (n:Item {{id: $id}}), (e:{tail} {{id: $entity}}) CREATE (n)-[:{rel}]->(e)"
                driver.execute_query(query, id=item_id, entity=entity, database_=database)
            created = time.perf_counter()
            active = library.active_model(driver, database)
            if active is None or not active.checkpoint:
                raise SystemExit("the database's active model has no checkpoint: run `kgrec train` on it first")
            frozen = load_frozen(Path(active.checkpoint), settings.models_dir)
            catch_up(driver, database, frozen)
            loaded = time.perf_counter()
            added = go_live(driver, database, frozen, [item_id])
            live = time.perf_counter()
            listed = fold_in(frozen, [{"item_id": twin, "rating": 5.0, "ts": None}], k=K)
            recommended = time.perf_counter()
        finally:
            driver.execute_query("MATCH (n:Item {id: $id}) DETACH DELETE n", id=item_id, database_=database)
    return {"model": active.version, "links": len(links), "went_live": added.item_ids == [item_id],
            "in_the_top20_of_a_user_who_liked_the_twin": item_id in listed.items,
            "seconds": {"create_item_and_links": round(created - started, 3),
                        "load_model_once": round(loaded - created, 3),
                        "go_live": round(live - loaded, 3), "first_fold_in": round(recommended - live, 3)}}


def main() -> None:
    from recording import print_and_record

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens", required=True, help="a MovieLens folder (ratings, movies, tags)")
    parser.add_argument("--hidden", type=float, default=0.1, help="share of the items hidden from training")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden items and of fitting")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--neo4j", action="store_true", help="also time an item's way to its first recommendation "
                                                             "on the database KGREC_* point at")
    parser.add_argument("--out", type=Path, help="also record the JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = {"benchmark": "new_items", "dataset": Path(args.movielens).name, "seed": args.seed,
              "threads": args.threads, "python": platform.python_version(), **quality(args)}
    logging.info("quality: %s", report)
    if args.neo4j:
        report["time_to_first_recommendation"] = time_to_first_recommendation()
    report["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print_and_record(report, args.out, report["dataset"])


if __name__ == "__main__":
    main()
