"""Rate of ``kgrec explain --store``: the best explanation paths of every recommendation of the
active model computed and kept on its RECOMMENDED edges (JSON on stdout).

Runs :func:`kgrec.serving.library.store_explanations` on the database's active model, with one
and with two users explained at a time, alternating, ``--runs`` times each, and reports the
recommendations per second of each run and their median. Goal on ml-latest-small: 1,000/s.

    kgrec load movielens ~/.cache/kgrec-data/ml-latest-small && kgrec train
    python bench/bench_explain_store.py --label ml-latest-small --out bench/results/explain_store.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from kgrec.config import open_driver
from kgrec.serving import library
from kgrec.settings import read_settings
from recording import print_and_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2, help="runs per number of workers (default %(default)s)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="users explained at a time")
    parser.add_argument("--paths", type=int, default=3, help="paths kept per recommendation (as explain --store)")
    parser.add_argument("--label", default=None, help="the graph's name in the results (default: its size)")
    parser.add_argument("--out", type=Path, help="also record the JSON here, under --label")
    args = parser.parse_args()

    settings = read_settings().neo4j
    result: dict = {"benchmark": "explain_store", "cpus": os.cpu_count(), "paths": args.paths,
                    "load_average_at_start": round(os.getloadavg()[0], 2), "runs": {}}
    with open_driver(settings) as driver:
        model = library.active_model(driver, settings.database)
        if model is None:
            raise SystemExit("no active model: run `kgrec load ...` and `kgrec train` first")
        records, _, _ = driver.execute_query("MATCH ()-[rec:RECOMMENDED]->() WHERE rec.model = $version "
                                             "RETURN count(rec) AS n", version=model.version,
                                             database_=settings.database)
        result.update(model=model.version, recommendations=records[0]["n"])
        for _ in range(args.runs):
            for workers in args.workers:
                started = time.perf_counter()
                written = library.store_explanations(driver, settings.database, paths=args.paths, progress=False,
                                                     workers=workers)
                rate = written / (time.perf_counter() - started)
                result["runs"].setdefault(str(workers), []).append(round(rate, 1))
    result["per_s_median"] = {workers: statistics.median(rates) for workers, rates in result["runs"].items()}
    result["goal_per_s"] = 1000
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print_and_record(result, args.out, args.label or result["recommendations"])


if __name__ == "__main__":
    main()
