"""``kgrec train`` and ``kgrec eval``: the engine's commands (registered by :mod:`kgrec.cli`)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="pull the graph from Neo4j, train, write embeddings/attention/"
                                                "recommendations back as a new active model")
    _model_options(train)
    train.add_argument("--checkpoint-dir", type=Path, default=None, help="checkpoint here every epoch")
    train.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir/last.pt")
    train.add_argument("--top-k", type=int, default=20, help="RECOMMENDED edges per user (default 20)")
    train.set_defaults(func=_train)

    evaluate = subparsers.add_parser("eval", help="temporal hold-out evaluation of the attention model and the "
                                                  "baselines (LightGCN, EASE, item-kNN, popularity)")
    _model_options(evaluate)
    evaluate.add_argument("--k", type=int, nargs="+", default=[10, 20], help="cut-offs (default 10 20)")
    evaluate.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    evaluate.add_argument("--sample", type=int, default=None, metavar="USERS",
                          help="evaluate on the synthetic sample with this many users instead of Neo4j")
    evaluate.set_defaults(func=_eval)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=["kgat", "lightgcn"], default="kgat")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")


def _config(args: argparse.Namespace):
    import torch

    from kgrec.engine.train import TrainConfig

    torch.set_num_threads(args.threads)
    return TrainConfig(model=args.model, epochs=args.epochs, dim=args.dim, seed=args.seed)


def _pull():
    from kgrec.config import Neo4jSettings, open_driver
    from kgrec.engine.pull import pull_graph

    settings = Neo4jSettings.from_env()
    driver = open_driver(settings)
    columns, stats = pull_graph(driver, settings.database)
    log.info("pulled %d relationships in %.1fs", stats.relationships, stats.seconds)
    return driver, settings.database, columns


def _eval(args: argparse.Namespace) -> int:
    from kgrec.engine.evaluate import format_table, run_evaluation
    from kgrec.engine.graph import columns_from_tabular

    config = _config(args)
    if args.sample:
        from kgrec.loaders.synthetic import generate_sample

        columns = columns_from_tabular(generate_sample(n_users=args.sample, seed=args.seed))
    else:
        driver, _, columns = _pull()
        driver.close()
    results = run_evaluation(columns, config, ks=tuple(args.k))
    print(format_table(results, tuple(args.k)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from kgrec.engine.evaluate import validation_ndcg
    from kgrec.engine.output import model_output
    from kgrec.engine.split import temporal_split
    from kgrec.engine.train import TASKS, fit, seed_everything
    from kgrec.engine.writeback import write_model

    if args.model != "kgat":
        raise SystemExit("kgrec train writes attention back, which only the attention model (--model kgat) has; "
                         "use `kgrec eval` to compare LightGCN")
    config = _config(args)
    driver, database, columns = _pull()
    try:
        seed_everything(config.seed)
        split = temporal_split(columns, test_fraction=0.0)  # production: hold out validation only
        train_columns = split.fit_columns(columns, split.train)
        task = TASKS[config.model](train_columns, config)
        result = fit(task, train_columns, lambda s: validation_ndcg(s, split), config,
                     checkpoint_dir=args.checkpoint_dir, resume=args.resume)
        version = time.strftime("kgat-%Y%m%dT%H%M%S")
        output = model_output(task, columns, version, k=args.top_k, params=asdict(config),
                              metrics={"val_ndcg@20": result.best_score, "best_epoch": result.best_epoch})
        stats = write_model(driver, database, columns, output)
        log.info("model %s active: %s", version, stats)
    finally:
        driver.close()
    return 0
