"""Latency of the live path: ``POST /v1/interactions`` then ``GET .../recommendations`` for the
same user, through ``kgrec serve``, at a given concurrency (JSON on stdout).

Every pair makes the user's stored list stale, so every GET folds the user in with the frozen
active model and writes the new list through to Neo4j: the worst case of the live path. Users
are existing users of the graph (one new rating each time) and, for ``--new-share`` of the
pairs, new users whose first interaction it is. Needs a trained active model (``kgrec train``)
whose checkpoint this machine can read; ``--load N --train`` builds one from the synthetic
sample first (use an empty database).

    python bench/bench_live.py --load 1000000 --train --out bench/results/live.json

Reports p50/p95/p99 of the pair, of each request, requests/s, and how many answers were not
live model lists (should be 0). Goal on the 1M-interaction graph at concurrency 8: pair p50 ≤ 50
ms, p99 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from pathlib import Path

import httpx

from bench_api import _free_port, _percentiles, _start_server, run_workers
from recording import print_and_record

API_KEY = "bench-live-key"


def _pairs(base: str, users: list[str], items: list[str], pairs: int, concurrency: int, new_share: float,
           seed: int, query: str) -> dict:
    """``pairs`` POST+GET pairs over ``concurrency`` threads, each with its own connection."""
    timings: dict[str, list[float]] = {"pair": [], "post": [], "get": []}
    not_live = errors = 0
    lock = threading.Lock()
    counter = iter(range(pairs))

    def worker(number: int) -> None:
        nonlocal not_live, errors
        rng = random.Random(seed * 1000 + number)
        with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": API_KEY}) as client:
            for n in counter:
                user = f"bench-new-{seed}-{n}" if rng.random() < new_share else rng.choice(users)
                row = {"user_id": user, "item_id": rng.choice(items), "rating": 5.0, "ts": int(time.time())}
                started = time.perf_counter()
                posted = client.post("/v1/interactions", json={"interactions": [row]})
                between = time.perf_counter()
                got = client.get(f"/v1/users/{user}/recommendations?{query}")
                ended = time.perf_counter()
                body = got.json() if got.status_code == 200 else {}
                with lock:
                    timings["post"].append((between - started) * 1000)
                    timings["get"].append((ended - between) * 1000)
                    timings["pair"].append((ended - started) * 1000)
                    errors += posted.status_code != 200 or got.status_code != 200
                    not_live += not (body.get("strategy") == "model" and body.get("live"))

    wall = run_workers(worker, concurrency)
    return {"query": query, "pairs": pairs, "concurrency": concurrency, "new_user_share": new_share,
            "errors": errors, "not_live_model_lists": not_live, "pairs_per_s": round(pairs / wall, 1),
            **{f"{part}_{key}": value for part, ms in timings.items() for key, value in _percentiles(ms).items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", type=int, metavar="N", help="first load the synthetic sample with N interactions")
    parser.add_argument("--train", action="store_true", help="first train and publish the attention model")
    parser.add_argument("--pairs", type=int, default=800, help="POST+GET pairs per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--users", type=int, default=2000, help="distinct existing users the pairs pick from")
    parser.add_argument("--new-share", type=float, default=0.1, help="share of pairs made by a new user")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and of the request mix")
    parser.add_argument("--explain", action="store_true",
                        help="also measure GETs with explain=true&paths=3 (the paths of a live list are computed per request)")
    parser.add_argument("--out", type=Path, help="also record the JSON here, under the graph's size")
    args = parser.parse_args()

    from kgrec.config import open_driver
    from kgrec.serving import library
    from kgrec.settings import read_settings

    kgrec_settings = read_settings()
    settings = kgrec_settings.neo4j
    result: dict = {"benchmark": "api_live_fold_in", "cpus": os.cpu_count(),
                    "load_average_at_start": round(os.getloadavg()[0], 2)}
    with open_driver(settings) as driver:
        if args.load:
            from kgrec.loaders import write_graph
            from kgrec.loaders.synthetic import generate_sample

            started = time.monotonic()
            write_graph(driver, generate_sample(n_interactions=args.load, seed=args.seed), database=settings.database,
                        progress=False)
            result["load_seconds"] = round(time.monotonic() - started, 1)
        if args.train:
            from kgrec.engine.training.config import TrainConfig
            from kgrec.engine.pipeline import train_and_publish

            started = time.monotonic()
            train_and_publish(driver, settings.database, TrainConfig(seed=args.seed), progress=False,
                              model_dir=kgrec_settings.models_dir)
            result["train_seconds"] = round(time.monotonic() - started, 1)
        model = library.active_model(driver, settings.database)
        if model is None:
            raise SystemExit("no active model: run `kgrec train` first, or pass --train")
        records, _, _ = driver.execute_query(
            "MATCH (u:User) WITH u LIMIT $n RETURN collect(u.id) AS users, "
            "COLLECT { MATCH (i:Item) RETURN i.id } AS items, COUNT { ()-[:INTERACTED]->() } AS interactions",
            n=args.users, database_=settings.database)
        users, items, interactions = records[0]["users"], records[0]["items"], records[0]["interactions"]
        result.update(model=model.version, interactions=interactions, items=len(items))

    os.environ["KGREC_API_KEY"] = API_KEY
    port = _free_port()
    started = time.monotonic()
    server = _start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        # the first fold-in loads the model's checkpoint into the server: timed apart
        first = time.perf_counter()
        _pairs(base, users, items, 1, 1, 0.0, args.seed + 1, "k=10")
        result["first_pair_with_model_load_ms"] = round((time.perf_counter() - first) * 1000, 1)
        scenarios = []
        for query in ("k=10", "k=10&explain=true&paths=3") if args.explain else ("k=10",):
            _pairs(base, users, items, min(100, args.pairs), args.concurrency, args.new_share, args.seed + 2, query)
            scenarios.append(_pairs(base, users, items, args.pairs, args.concurrency, args.new_share,
                                    args.seed + 3 + len(scenarios), query))
        result["scenarios"] = scenarios
    finally:
        server.terminate()
        server.wait(timeout=30)
    result["goal"] = {"pair_p50_ms": 50, "pair_p99_ms": 150, "at": "1M interactions, concurrency 8"}
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print_and_record(result, args.out, interactions)


if __name__ == "__main__":
    main()
