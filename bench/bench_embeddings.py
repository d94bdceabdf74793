"""Do the embeddings in Neo4j answer like the model? The vector index's lists, asked through
Cypher as a user asks them, against the model's own lists, on a temporal hold-out.

Protocol: ``kgrec eval``'s per-user temporal split of the graph. The database (emptied first:
point the bench at a scratch ``KGREC_HOME``) is loaded with every interaction but the held-out
test ones, and the model is trained and published from it as ``kgrec train`` does. Then, per user
with held-out interactions, two top-20 lists of unseen items are read from Neo4j:

- the model's: its RECOMMENDED edges (``recommendations.cypher``);
- the index's: ``embedding_recommendations.cypher``, the user's embedding through
  ``db.index.vector.queryNodes`` over the items' embeddings.

Reported: their overlap@20, the NDCG@20 and Recall@20 of each against the held-out
interactions, and the ratio of the index's NDCG@20 to the model's (goal: at least 0.95); the
same overlap for the exact inner-product ranking of the same embeddings (the factorisation's
error alone, without the approximate index); and, for sampled items, the overlap of
``similar_items.cypher`` with the 20 items the item's message weighs most. Each rank of
``--dims`` is published in turn from the same fitted model (only the factorisation changes).
At the first rank, the published index is also compared with the maximum-inner-product
reduction (one more coordinate that equalises the item norms) on how many of the exact top
items by dot product each finds.

    KGREC_HOME=/tmp/emb-bench python bench/bench_embeddings.py \\
        --movielens ~/.cache/kgrec-data/ml-latest-small --out bench/results/embeddings.json

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


def _median_ms(seconds: list[float]) -> float:
    return round(1000 * float(np.median(seconds)), 2)


def _ndcg_recall(lists: list[list[int]], held_out: list[set[int]]) -> tuple[float, float]:
    """Mean NDCG@K (binary relevance, ideal DCG of min(K, held-out) hits) and Recall@K."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg, recall = [], []
    for found, wanted in zip(lists, held_out):
        hits = np.array([item in wanted for item in found[:K]], float)
        ndcg.append(float(hits @ discounts[:len(hits)]) / float(discounts[:min(K, len(wanted))].sum()))
        recall.append(hits.sum() / len(wanted))
    return float(np.mean(ndcg)), float(np.mean(recall))


def _overlap(first: list, second: list) -> float:
    return len(set(first[:K]) & set(second[:K])) / K


def _measure(driver, database: str, model, columns, known_histories, held_out: dict[int, set[int]],
             similar_sample: np.ndarray) -> dict:
    """The measures of the published model (see the module doc)."""
    from kgrec.engine.data.histories import history_of
    from kgrec.engine.evaluation.metrics import top_k
    from kgrec.graph_schema import ITEM, USER
    from kgrec.serving import library

    import torch

    item_ids, user_ids = columns.node_ids[ITEM], columns.node_ids[USER]
    position = pd.Index(item_ids)
    users = sorted(held_out)
    exact, indexed, model_s, index_s = [], [], [], []
    for user in users:
        started = time.perf_counter()
        exact.append(position.get_indexer([r.item_id for r in library.recommendations(
            driver, database, user_ids[user], k=K)]).tolist())
        model_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        indexed.append(position.get_indexer([r.item_id for r in library.embedding_recommendations(
            driver, database, user_ids[user], k=K)]).tolist())
        index_s.append(time.perf_counter() - started)
    wanted = [held_out[user] for user in users]
    model_ndcg, model_recall = _ndcg_recall(exact, wanted)
    index_ndcg, index_recall = _ndcg_recall(indexed, wanted)

    embeddings = model.embeddings(None, known_histories.select(np.array(users)))
    dots = torch.from_numpy(embeddings[USER] @ embeddings[ITEM].T)
    known = known_histories.binary()
    inner = top_k(dots, known, np.array(users), K).numpy().tolist()

    similar, similar_s = [], []
    for item in similar_sample.tolist():
        # a user whose one interaction is the item (attention 1) is scored with its message
        message = model.score(history_of(np.array([item]), np.zeros(1), np.full(1, np.nan), len(item_ids)))[0]
        message[item] = -np.inf
        strongest = torch.topk(message, K).indices.tolist()
        started = time.perf_counter()
        found = position.get_indexer([r.item_id for r in library.similar_items(driver, database, item_ids[item],
                                                                               k=K)]).tolist()
        similar_s.append(time.perf_counter() - started)
        similar.append(_overlap(strongest, found))
    return {
        "users": len(users),
        "overlap@20": round(float(np.mean([_overlap(a, b) for a, b in zip(exact, indexed)])), 4),
        "overlap@20_exact_inner_product": round(float(np.mean([_overlap(a, b) for a, b in zip(exact, inner)])), 4),
        "model_ndcg@20": round(model_ndcg, 4), "index_ndcg@20": round(index_ndcg, 4),
        "ndcg@20_ratio": round(index_ndcg / model_ndcg, 4) if model_ndcg else None,
        "model_recall@20": round(model_recall, 4), "index_recall@20": round(index_recall, 4),
        "similar_items": len(similar), "similar_items_overlap@20": round(float(np.mean(similar)), 4),
        "p50_ms": {"recommendations": _median_ms(model_s), "embedding_recommendations": _median_ms(index_s),
                   "similar_items": _median_ms(similar_s)},
    }


def _index_recall(driver, database: str, index: str, queries: np.ndarray, items: np.ndarray, item_ids,
                  users: list[int], known) -> float:
    """Mean share of each user's exact top-K by dot product (``queries`` · ``items``, unseen
    items) that ``index`` finds when asked for 4 candidates per wanted and seen item, the
    candidates ranked by the dot product (what ``embedding_recommendations`` does)."""
    position = pd.Index(item_ids)
    found = []
    for user in users:
        seen = set(known[user].indices.tolist())
        dots = items @ queries[user]
        exact = [j for j in np.argsort(-dots) if j not in seen][:K]
        rows, _, _ = driver.execute_query("CALL db.index.vector.queryNodes($index, $n, $query) YIELD node "
                                          "RETURN node.id AS id", index=index, n=4 * (K + len(seen)),
                                          query=queries[user].astype(float).tolist(), database_=database)
        candidates = [j for j in position.get_indexer([r["id"] for r in rows]).tolist() if j not in seen]
        found.append(len(set(exact) & set(sorted(candidates, key=lambda j: -dots[j])[:K])) / K)
    return round(float(np.mean(found)), 4)


def _reduction_check(driver, database: str, model, columns, known_histories, users: list[int]) -> dict:
    """The published index against the maximum-inner-product reduction: every item vector
    gets one more coordinate, sqrt(R² - |v|²) with R the largest item norm, every query a 0
    there, so the cosine order is the dot-product order; indexed in a scratch property, once
    with Neo4j's default HNSW options and once with the published index's."""
    from kgrec.engine.neo4j.writeback import VECTOR_INDEX_CONFIG
    from kgrec.graph_schema import ITEM, USER

    embeddings = model.embeddings(None, known_histories)
    items, queries = embeddings[ITEM], embeddings[USER]
    norms = np.linalg.norm(items, axis=1)
    reduced = np.hstack([items, np.sqrt(np.maximum(norms.max() ** 2 - norms ** 2, 0.0))[:, None]])
    reduced_queries = np.hstack([queries, np.zeros((len(queries), 1))])
    active = driver.execute_query("MATCH (m:Model {active: true}) RETURN m.item_index AS index",
                                  database_=database).records[0]["index"]
    known = known_histories.binary()
    item_ids = columns.node_ids[ITEM]
    result = {"published_index": _index_recall(driver, database, active, queries, items, item_ids, users, known)}
    driver.execute_query("UNWIND range(0, size($ids) - 1) AS k MATCH (i:Item {id: $ids[k]}) "
                         "CALL db.create.setNodeVectorProperty(i, 'bench_reduced', $vectors[k])",
                         ids=item_ids.tolist(), vectors=reduced.astype(float).tolist(), database_=database)
    for name, config in (("reduction_default_hnsw", {"m": 16, "ef_construction": 100, "quantization": True}),
                         ("reduction_published_hnsw", VECTOR_INDEX_CONFIG[ITEM])):
        driver.execute_query("DROP INDEX bench_reduced IF EXISTS", database_=database)
        driver.execute_query(
            "CREATE VECTOR INDEX bench_reduced FOR (i:Item) ON i.bench_reduced OPTIONS {indexConfig: {"
            "`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine', `vector.hnsw.m`: $m, "
            "`vector.hnsw.ef_construction`: $ef_construction, `vector.quantization.enabled`: $quantization}}",
            dim=reduced.shape[1], **config, database_=database)
        driver.execute_query("CALL db.awaitIndexes(600)", database_=database)
        result[name] = _index_recall(driver, database, "bench_reduced", reduced_queries, reduced, item_ids, users,
                                     known)
    driver.execute_query("DROP INDEX bench_reduced IF EXISTS", database_=database)
    with driver.session(database=database) as session:
        session.run("MATCH (i:Item) WHERE i.bench_reduced IS NOT NULL "
                    "CALL (i) { REMOVE i.bench_reduced } IN TRANSACTIONS OF 10000 ROWS").consume()
    return {"measure": f"share of the exact top-{K} by dot product found (4 candidates per wanted and seen item, "
                       "re-ranked by the dot product)", "users": len(users), **result}


def run(args: argparse.Namespace) -> dict:
    import torch

    from kgrec.config import open_driver
    from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular
    from kgrec.engine.data.histories import histories_from_columns
    from kgrec.engine.data.split import temporal_split
    from kgrec.engine.neo4j.persist import load_active
    from kgrec.engine.neo4j.pull import pull_graph
    from kgrec.engine.neo4j.writeback import write_model
    from kgrec.engine.output import model_output
    from kgrec.engine.pipeline import new_version, train_and_publish
    from kgrec.engine.training.config import TrainConfig
    from kgrec.graph_schema import ITEM, USER
    from kgrec.loaders import read_movielens, write_graph
    from kgrec.settings import read_settings

    torch.set_num_threads(args.threads)
    graph = read_movielens(args.movielens)
    full = columns_from_tabular(graph)
    split = temporal_split(full)
    users, items = full.edges[INTERACTION_KEY]
    assert np.array_equal(split.users, users) and np.array_equal(split.items, items), "split not in row order"
    known_graph = dataclasses.replace(graph, interactions=graph.interactions[~split.test].reset_index(drop=True))
    test = split.test

    settings = read_settings()
    database = settings.neo4j.database
    report: dict = {"benchmark": "embeddings", "dataset": Path(args.movielens).name, "seed": args.seed,
                    "threads": args.threads, "k": K, "python": platform.python_version(),
                    "held_out_interactions": int(test.sum()), "goal": "index NDCG@20 >= 0.95 x the model's",
                    "ranks": {}}
    with open_driver(settings.neo4j) as driver:
        with driver.session(database=database) as session:  # CALL IN TRANSACTIONS: an implicit transaction
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        write_graph(driver, known_graph, database=database, progress=False)
        started = time.perf_counter()
        train_and_publish(driver, database, TrainConfig(seed=args.seed), options={"dim": args.dims[0]},
                          progress=False, model_dir=settings.models_dir)
        report["train_and_publish_s"] = round(time.perf_counter() - started, 1)
        model, columns, _ = load_active(driver, database, settings.models_dir)
        known_histories = histories_from_columns(columns)
        item_index, user_index = pd.Index(columns.node_ids[ITEM]), pd.Index(columns.node_ids[USER])
        held_out: dict[int, set[int]] = {}
        for user, item in zip(user_index.get_indexer(full.node_ids[USER][users[test]]),
                              item_index.get_indexer(full.node_ids[ITEM][items[test]])):
            held_out.setdefault(int(user), set()).add(int(item))
        sample = np.random.default_rng(args.seed).choice(len(columns.node_ids[ITEM]), args.similar_items,
                                                         replace=False)
        for dim in args.dims:
            if dim != args.dims[0]:
                model.options.dim, model._factored = dim, None
                started = time.perf_counter()
                pulled, _ = pull_graph(driver, database)
                write_model(driver, database, pulled, model_output(model, pulled, histories_from_columns(pulled),
                                                                   new_version("attention"), k=K),
                            progress=False)
                report.setdefault("republish_s", {})[str(dim)] = round(time.perf_counter() - started, 1)
            report["ranks"][str(dim)] = _measure(driver, database, model, columns, known_histories, held_out,
                                                 sample)
            logging.info("dim %d: %s", dim, report["ranks"][str(dim)])
            if dim == args.dims[0]:
                report["reduction"] = {"rank": dim, **_reduction_check(driver, database, model, columns,
                                                                        known_histories, sorted(held_out)[::4])}
                logging.info("reduction: %s", report["reduction"])
    best = {dim: run["ndcg@20_ratio"] for dim, run in report["ranks"].items()}
    report["goal_met_at"] = [int(dim) for dim, ratio in best.items() if ratio is not None and ratio >= 0.95]
    report["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return report


def main() -> None:
    from recording import print_and_record

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens", required=True, help="a MovieLens folder (ratings, movies, tags)")
    parser.add_argument("--dims", type=lambda text: [int(d) for d in text.split(",")], default=[64, 128, 256],
                        help="ranks of the factorisation to publish and measure, comma-separated (default 64,128,256)")
    parser.add_argument("--similar-items", type=int, default=300, help="items whose similar_items are checked")
    parser.add_argument("--seed", type=int, default=0, help="seed of fitting and of the sampled items")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", type=Path, help="also record the JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = run(args)
    print_and_record(report, args.out, report["dataset"])


if __name__ == "__main__":
    main()
