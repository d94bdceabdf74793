"""Latency of the explanation query on a synthetic graph (JSON on stdout).

Loads ``generate_sample(n_interactions=N)`` into the configured Neo4j when ``--load`` is given
(use an empty database), then times ``explanation_paths`` for random (user, item) pairs: the
user's top recommendation from the active model when there is one, else a popular item the
user has not seen. Reports p50/p95/p99 in milliseconds and whether a trained model was active
(without one, the weights are 0 but the query does the same expansion).

    python bench/bench_explain.py --interactions 1000000 --load
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time

import numpy as np

from kgrec.config import open_driver
from kgrec.serving import library
from kgrec.settings import read_settings


def _pairs(driver, database: str, n: int, seed: int) -> list[tuple[str, str]]:
    records, _, _ = driver.execute_query(
        "MATCH (u:User) WITH u, rand() AS r ORDER BY r LIMIT $n "
        "OPTIONAL MATCH (u)-[rec:RECOMMENDED {rank: 1}]->(top:Item) "
        "CALL (u) { MATCH (i:Item) WHERE NOT (u)-[:INTERACTED]->(i) "
        "  WITH i ORDER BY COUNT { (i)<-[:INTERACTED]-() } DESC LIMIT 1 RETURN i.id AS popular } "
        "RETURN u.id AS user, coalesce(top.id, popular) AS item", n=n, database_=database)
    pairs = [(r["user"], r["item"]) for r in records]
    random.Random(seed).shuffle(pairs)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--load", action="store_true", help="generate and load the graph first")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--paths", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    settings = read_settings().neo4j
    result: dict = {"benchmark": "explanation_query", "interactions": args.interactions,
                    "paths": args.paths, "cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    with open_driver(settings) as driver:
        if args.load:
            from kgrec.loaders import write_graph
            from kgrec.loaders.synthetic import generate_sample

            started = time.monotonic()
            write_graph(driver, generate_sample(n_interactions=args.interactions, seed=args.seed),
                        database=settings.database)
            result["load_seconds"] = round(time.monotonic() - started, 1)
        result["model_active"] = library.active_model(driver, settings.database) is not None
        pairs = _pairs(driver, settings.database, args.queries, args.seed)
        for user, item in pairs[:10]:  # warm the page cache and the query plan
            library.explanation_paths(driver, settings.database, user, item, limit=args.paths)
        latencies, found = [], 0
        for user, item in pairs:
            started = time.perf_counter()
            paths = library.explanation_paths(driver, settings.database, user, item, limit=args.paths)
            latencies.append((time.perf_counter() - started) * 1000)
            found += bool(paths)
    ms = np.array(latencies)
    result.update(queries=len(ms), pairs_with_a_path=found,
                  p50_ms=round(float(np.percentile(ms, 50)), 1), p95_ms=round(float(np.percentile(ms, 95)), 1),
                  p99_ms=round(float(np.percentile(ms, 99)), 1), max_ms=round(float(ms.max()), 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
