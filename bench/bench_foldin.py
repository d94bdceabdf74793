"""Fold-in quality: is a user the frozen model never saw served as well as one it was trained on?

Protocol (``kgrec eval``'s per-user temporal split, full ranking): a random ``--hidden`` share of
the users that have test interactions is drawn (seeded). The **trained** model is fitted as
``kgrec eval`` fits it, on every user's train part (validation to choose, train + validation to
refit). The **folded-in** model is fitted the same way with the hidden users' whole history
removed: it never sees them, in fitting, choosing or refitting. Both then score the hidden users
from their train + validation interactions — for the folded-in model that is the API's fold-in
(:func:`kgrec.engine.fold_in.fold_in` is this scoring, one user at a time) — and are measured on
those users' test interactions. Goal: the folded-in NDCG@20 within 5% of the trained one.

Real data never enters the repository (see docs/real-data.md):

    python bench/bench_foldin.py --movielens ~/.cache/kgrec-data/ml-latest-small \\
        --out bench/results/foldin.json

Prints JSON; with ``--out``, also writes it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np


def run(args: argparse.Namespace) -> dict:
    import torch

    from kgrec.engine.training.config import TrainConfig
    from kgrec.engine.evaluation.evaluate import fit_data
    from kgrec.engine.data.graph import columns_from_tabular
    from kgrec.engine.data.histories import histories_from_columns
    from kgrec.engine.evaluation.metrics import evaluate
    from kgrec.engine.models.base import create
    from kgrec.engine.data.split import Split, temporal_split
    from kgrec.engine.training.train import seed_everything
    from kgrec.loaders import read_movielens
    from kgrec.loaders.synthetic import generate_sample

    torch.set_num_threads(args.threads)
    if args.movielens:
        dataset, columns = Path(args.movielens).name, columns_from_tabular(read_movielens(args.movielens))
    else:
        dataset, columns = f"synthetic sample, {args.sample} users", columns_from_tabular(
            generate_sample(n_users=args.sample, seed=args.seed))
    split = temporal_split(columns)
    with_test = np.unique(split.users[split.test])
    hidden = np.random.default_rng(args.seed).choice(with_test, size=max(1, round(args.hidden * len(with_test))),
                                                     replace=False)
    is_hidden = np.isin(split.users, hidden)
    without_hidden = Split(split.users, split.items, split.train & ~is_hidden, split.val & ~is_hidden,
                           split.test & ~is_hidden, split.num_users, split.num_items)
    known = split.matrix(split.train | split.val)
    test = split.matrix(split.test & is_hidden)
    histories = histories_from_columns(columns, split.train | split.val)
    report: dict = {"dataset": dataset, "method": args.method, "seed": args.seed, "hidden_share": args.hidden,
                    "hidden_users": int(len(hidden)), "users_with_test": int(len(with_test)),
                    "hidden_test_interactions": int(test.nnz), "threads": args.threads, "runs": {}}
    for name, fitted_on in (("trained", split), ("folded_in", without_hidden)):
        started = time.perf_counter()
        seed_everything(args.seed)
        model = create(args.method, TrainConfig(seed=args.seed)).fit(fit_data(columns, fitted_on))
        metrics = evaluate(lambda users: model.score(histories.select(users)), known, test, ks=(10, 20))
        metrics["params"] = {k: v for k, v in model.params.items() if k != "loss_curve"}
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        report["runs"][name] = metrics
        logging.info("%s: NDCG@20 %.4f (%.0f s)", name, metrics["ndcg@20"], metrics["seconds"])
    trained, folded = report["runs"]["trained"]["ndcg@20"], report["runs"]["folded_in"]["ndcg@20"]
    report["ndcg@20_ratio"] = round(folded / trained, 4) if trained else None
    report["goal"] = "folded-in NDCG@20 within 5% of trained (ratio >= 0.95)"
    report["goal_met"] = bool(trained and folded / trained >= 0.95)
    report["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens", help="a MovieLens folder (ratings, movies, tags); default: the synthetic sample")
    parser.add_argument("--sample", type=int, default=2000, help="synthetic sample size in users, without --movielens")
    parser.add_argument("--method", default="attention", help="registered model to fold users into")
    parser.add_argument("--hidden", type=float, default=0.2, help="share of the users with test interactions to hide")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden users and of fitting")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = run(args)
    text = json.dumps(report, indent=2, default=float)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
