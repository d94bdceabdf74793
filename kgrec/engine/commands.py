"""``kgrec train`` and ``kgrec eval``: the engine's commands (registered by :mod:`kgrec.cli`)."""

from __future__ import annotations

import argparse
import json
import logging
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
    from kgrec.config import Neo4jSettings, open_driver
    from kgrec.engine.pipeline import NothingToTrainError, train_and_publish

    config = _config(args)
    settings = Neo4jSettings.from_env()
    with open_driver(settings) as driver:
        try:
            version, stats = train_and_publish(driver, settings.database, config, top_k=args.top_k,
                                               checkpoint_dir=args.checkpoint_dir, resume=args.resume)
        except NothingToTrainError as exc:
            raise SystemExit(f"kgrec: error: {exc}") from exc
    print(f"model {version} active: val NDCG@20 {stats.train.best_score:.4f} (epoch {stats.train.best_epoch}), "
          f"{stats.write.embeddings} embeddings, {stats.write.attention} attention values, "
          f"{stats.write.recommendations} recommendations; saved to {stats.checkpoint}")
    return 0
