"""Ranking quality of the published model against every baseline, on the synthetic sample and on
real data, over several seeds (``kgrec eval``'s protocol and code: per-user temporal hold-out,
full ranking, every held-out interaction relevant).

Real data never enters the repository: pass the folders and files you have, e.g.
ml-latest-small kept in ``~/.cache/kgrec-data`` (see docs/real-data.md). Synthetic runs draw a new
sample per seed (graph and training seed alike); real runs keep the one split and vary the
training seed, so a model whose fit does not depend on the seed (closed form: EASE, item-kNN,
popularity) runs once there and its spread is 0 by construction.

    python bench/bench_quality.py --sample 2000 --movielens ~/.cache/kgrec-data/ml-latest-small \\
        --seeds 0 1 2 --out bench/results/quality.json

Prints JSON; with ``--out``, also writes it. ``bench/results_report.py`` turns it into tables
(``bench/RESULTS.md`` and the README's quality table).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

METRICS = ("ndcg@20", "recall@20", "hit_rate@20", "coverage@20", "diversity@20", "novelty@20", "seconds")
#: the segments of kgrec.engine.evaluation.metrics.segments: cold items, short and long histories
SEGMENTS = ("cold_items", "short_history", "long_history")
SEGMENT_METRICS = tuple(f"{segment}:{measure}" for segment in SEGMENTS
                        for measure in ("ndcg@20", "recall@20", "users", "interactions"))


def _datasets(args: argparse.Namespace):
    """(name, seed -> GraphColumns, whether the data changes with the seed) per dataset."""
    from kgrec.engine.data.graph import columns_from_tabular
    from kgrec.loaders import read_csv_graph, read_movielens
    from kgrec.loaders.synthetic import generate_sample

    if args.sample:
        yield f"synthetic sample, {args.sample} users", lambda seed: columns_from_tabular(
            generate_sample(n_users=args.sample, seed=seed)), True
    for folder in args.movielens:
        columns = columns_from_tabular(read_movielens(folder))
        yield Path(folder).name, lambda seed, columns=columns: columns, False
    for path in args.interactions:
        columns = columns_from_tabular(read_csv_graph(interactions=path))
        yield Path(path).name, lambda seed, columns=columns: columns, False


def run(args: argparse.Namespace) -> dict:
    import torch

    from kgrec.engine.evaluation.evaluate import run_evaluation
    from kgrec.engine.models import EVALUATED
    from kgrec.engine.models.base import create
    from kgrec.engine.training.config import TrainConfig

    torch.set_num_threads(args.threads)
    methods = args.methods or list(EVALUATED)
    seeded = [m for m in methods if create(m, TrainConfig()).seeded]
    report: dict = {"seeds": args.seeds, "methods": methods, "datasets": {}}
    for name, columns_for, varies in _datasets(args):
        runs = []
        for i, seed in enumerate(args.seeds):
            started = time.perf_counter()
            todo = methods if varies or i == 0 else seeded
            runs.append(run_evaluation(columns_for(seed), TrainConfig(seed=seed), ks=(20,), methods=todo))
            for method in methods:
                runs[-1].setdefault(method, runs[0][method])
            logging.info("%s, seed %d: %.0f s", name, seed, time.perf_counter() - started)
        summary = {}
        for method in methods:
            values = {metric: [run[method][metric] for run in runs] for metric in METRICS + SEGMENT_METRICS}
            summary[method] = {metric: {"mean": float(np.mean(v)), "std": float(np.std(v)), "runs": v}
                               for metric, v in values.items()}
            summary[method]["params"] = [run[method]["params"] for run in runs]
        report["datasets"][name] = summary
    return report


def merge(paths: list[Path]) -> dict:
    """One report from reports that ran different methods (e.g. in parallel, or a slow model on
    fewer seeds): their methods side by side, per dataset, in the order given. A method run on
    other seeds than the first report's keeps its own, as ``seeds`` in its summary."""
    reports = [json.loads(path.read_text()) for path in paths]
    merged: dict = {"seeds": reports[0]["seeds"], "methods": [], "datasets": {}}
    for report in reports:
        merged["methods"] += [m for m in report["methods"] if m not in merged["methods"]]
        for name, summary in report["datasets"].items():
            for method, values in summary.items():
                if report["seeds"] != merged["seeds"]:
                    values = {**values, "seeds": report["seeds"]}
                merged["datasets"].setdefault(name, {})[method] = values
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=0, metavar="USERS",
                        help="also the synthetic sample with this many users (0: none)")
    parser.add_argument("--movielens", action="append", default=[], metavar="DIR",
                        help="a MovieLens folder (repeatable)")
    parser.add_argument("--interactions", action="append", default=[], metavar="CSV",
                        help="an interactions CSV (user_id,item_id[,rating][,ts]; repeatable)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument("--methods", nargs="+", default=None, help="models (default: kgrec eval's)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                        help="instead of running: merge these reports (same seeds, other methods) into --out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.merge:
        report = merge(args.merge)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2) + "\n")
        return
    if not (args.sample or args.movielens or args.interactions):
        parser.error("give --sample, --movielens or --interactions (real data is not in the repository: "
                     "docs/real-data.md says where to get ml-latest-small)")
    report = run(args)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
