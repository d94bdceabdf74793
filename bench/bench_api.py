"""HTTP latency of GET /v1/users/{id}/recommendations through `kgrec serve` (JSON on stdout).

Starts the API with uvicorn in a subprocess (127.0.0.1 only) on the configured Neo4j, then
drives it with ``--concurrency`` client threads (keep-alive connections) for two scenarios:
k=10 with 3 explanation paths per item, and k=10 with explain=false. Reports p50/p95/p99 and
requests/s, plus a single-client breakdown of where a request's time goes: the query library
call alone (Cypher + driver), response serialisation, and the rest (HTTP, FastAPI, threads).

``--load`` first writes ``generate_sample(n_interactions=N)`` (use an empty database). When no
trained model is active, ``--stand-in-model`` materialises one for the sampled users: their
fallback items written as RECOMMENDED edges of a model "bench-stand-in", so the served query
and the explanation expansion are the real ones; only the ranking (and the attention weights)
are not learned.

Before measuring, the requested users' best 3 explanation paths are stored on their
RECOMMENDED edges, as `kgrec explain --store` does after training (its cost per user is
reported); ``--live-explanations`` skips that, so every explain=true request computes its paths.

    python bench/bench_api.py --interactions 100000 --load --stand-in-model --out bench/results/api.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import numpy as np
import neo4j

from kgrec.api.schemas import PublicRecommendation, RecommendationList
from kgrec.config import open_driver
from kgrec.serving import library
from kgrec.settings import read_settings

STAND_IN_VERSION = "bench-stand-in"

WRITE_STAND_IN = """
MERGE (m:Model {version: $version})
SET m.active = true, m.trained_at = datetime(), m.params = '{"stand_in": "fallback ranking"}'
WITH m
UNWIND $rows AS row
MATCH (u:User {id: row.user_id}), (i:Item {id: row.item_id})
MERGE (u)-[r:RECOMMENDED {model: $version}]->(i)
SET r.rank = row.rank, r.score = row.score
"""

SAMPLE_USERS = """
MATCH (m:Model {active: true})
MATCH (u:User) WHERE EXISTS { (u)-[:RECOMMENDED {model: m.version}]->() }
RETURN u.id AS id LIMIT $n
"""


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.array(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "mean_ms": round(float(a.mean()), 1)}


def _stand_in_model(driver: neo4j.Driver, database: str, users: int, seed: int) -> None:
    """Materialise fallback picks as the active model's top-10 for ``users`` random users."""
    records, _, _ = driver.execute_query("MATCH (u:User) RETURN u.id AS id", database_=database)
    ids = random.Random(seed).sample([r["id"] for r in records], min(users, len(records)))
    rows = [{"user_id": uid, "item_id": rec.item_id, "rank": rec.rank, "score": 1.0 / rec.rank}
            for uid in ids for rec in library.fallback_recommendations(driver, database, uid, 10)]
    driver.execute_query("MATCH (m:Model) SET m.active = false", database_=database)
    driver.execute_query(WRITE_STAND_IN, version=STAND_IN_VERSION, rows=rows, database_=database)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "kgrec.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"kgrec serve exited with {server.returncode}")
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("kgrec serve did not become ready within 60 s")


def _load(base: str, users: list[str], query: str, requests: int, concurrency: int) -> dict:
    """``requests`` GETs over ``concurrency`` threads, each with its own keep-alive connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=30) as client:
            for n in counter:
                started = time.perf_counter()
                response = client.get(f"/v1/users/{users[n % len(users)]}/recommendations?{query}")
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code != 200

    wall = run_workers(lambda _: worker(), concurrency)
    return {"query": query, "requests": requests, "concurrency": concurrency, "errors": errors,
            "requests_per_s": round(requests / wall, 1), **_percentiles(latencies)}


def run_workers(worker: Callable[[int], None], concurrency: int) -> float:
    """Run ``worker(0)`` ... ``worker(concurrency - 1)`` in threads at once; the wall seconds."""
    threads = [threading.Thread(target=worker, args=(number,)) for number in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _breakdown(driver: neo4j.Driver, database: str, base: str, users: list[str], paths: int) -> dict:
    """Single-client medians: library call alone, serialisation alone, and the whole request."""
    query = f"k=10&explain={'true' if paths else 'false'}&paths={paths or 3}"
    library_ms, serialise_ms, http_ms = [], [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        for uid in users[:100]:
            recs: list = []
            library_ms += _timed(lambda: recs.extend(library.recommendations(driver, database, uid, 10, paths)), 1)
            body = RecommendationList(user_id=uid, strategy="model", model=recs[0].model if recs else None,
                                      live=bool(recs and recs[0].live),
                                      items=[PublicRecommendation.from_recommendation(r) for r in recs])
            serialise_ms += _timed(body.model_dump_json, 1)
            http_ms += _timed(lambda: client.get(f"/v1/users/{uid}/recommendations?{query}"), 1)
    med = lambda xs: round(float(np.median(xs)), 2)  # noqa: E731
    return {"query": query, "library_call_p50_ms": med(library_ms), "serialise_p50_ms": med(serialise_ms),
            "http_request_p50_ms": med(http_ms),
            "http_fastapi_overhead_p50_ms": round(med(http_ms) - med(library_ms) - med(serialise_ms), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000, help="size of the graph to --load")
    parser.add_argument("--load", action="store_true", help="generate and load the graph first")
    parser.add_argument("--stand-in-model", action="store_true",
                        help="when no model is active, materialise fallback picks as one (see above)")
    parser.add_argument("--users", type=int, default=500, help="distinct users requested")
    parser.add_argument("--requests", type=int, default=800, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--live-explanations", action="store_true",
                        help="do not store the requested users' explanation paths first: every explain=true "
                             "request computes its paths")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()

    settings = read_settings().neo4j
    result: dict = {"benchmark": "api_recommendations", "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()[0]}  # other work on the same cores skews it
    with open_driver(settings) as driver:
        if args.load:
            from kgrec.loaders import write_graph
            from kgrec.loaders.synthetic import generate_sample

            started = time.monotonic()
            write_graph(driver, generate_sample(n_interactions=args.interactions, seed=args.seed),
                        database=settings.database, progress=False)
            result["load_seconds"] = round(time.monotonic() - started, 1)
        model = library.active_model(driver, settings.database)
        if model is None and args.stand_in_model:
            _stand_in_model(driver, settings.database, args.users, args.seed)
            model = library.active_model(driver, settings.database)
        if model is None:
            raise SystemExit("no active model: train one, or pass --stand-in-model")
        counts, _, _ = driver.execute_query(
            "RETURN COUNT { ()-[:INTERACTED]->() } AS interactions, COUNT { (:User) } AS users, "
            "COUNT { (:Item) } AS items", database_=settings.database)
        result.update(graph=dict(counts[0]), model=model.version)
        records, _, _ = driver.execute_query(SAMPLE_USERS, n=args.users, database_=settings.database)
        users = [r["id"] for r in records]
        random.Random(args.seed).shuffle(users)
        if not args.live_explanations:
            # What `kgrec explain --store` does for every user after training, here for the
            # requested users only; its cost per user is reported beside the serving latency.
            started = time.monotonic()
            stored = library.store_explanations(driver, settings.database, paths=3, user_ids=users, progress=False)
            result["store_explanations"] = {"users": len(users), "recommendations": stored,
                                            "ms_per_user": round((time.monotonic() - started) * 1000 / len(users), 1)}

        port = _free_port()
        server = _start_server(port)
        base = f"http://127.0.0.1:{port}"
        try:
            scenarios = []
            for query in ("k=10&explain=true&paths=3", "k=10&explain=false"):
                _load(base, users, query, min(100, args.requests), args.concurrency)  # warm-up
                scenarios.append(_load(base, users, query, args.requests, args.concurrency))
            result["scenarios"] = scenarios
            result["breakdown_single_client"] = [_breakdown(driver, settings.database, base, users, p)
                                                 for p in (3, 0)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    result["targets"] = {"p50_ms": 25, "p99_ms": 100}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
