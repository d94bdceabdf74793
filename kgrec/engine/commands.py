"""The engine's commands (registered by :mod:`kgrec.cli`): ``kgrec train``, ``kgrec eval``,
``kgrec recommend``, ``kgrec export-recommendations`` and ``kgrec items add``."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kgrec.errors import KgrecError

if TYPE_CHECKING:
    from kgrec.config import Neo4jSettings
    from kgrec.settings import Settings

log = logging.getLogger(__name__)


class UnknownUserError(KgrecError, LookupError):
    """``kgrec recommend`` for a user id the database does not have."""


class NotRecommendableError(KgrecError, ValueError):
    """``kgrec items add`` for items the active model cannot score (each with the reason)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    from kgrec.engine.training.config import PUBLISHED_MODEL

    train = subparsers.add_parser("train", help="pull the graph from Neo4j, train, write embeddings/attention/"
                                                "recommendations back as a new active model",
                                  add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter)
    _run_options(train, "the --model trained (an option it does not read is an error)")
    train.add_argument("--model", choices=_model_names(), default=PUBLISHED_MODEL,
                       help="the model to train (default %(default)s; only models with attention can be published)")
    train.add_argument("--checkpoint-dir", type=Path, default=None, help="checkpoint here every epoch")
    train.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir/last.pt")
    train.add_argument("--top-k", type=int, default=20, help="RECOMMENDED edges per user (default 20)")
    train.set_defaults(func=_train)

    evaluate = subparsers.add_parser("eval", help="temporal hold-out evaluation of the attention model and the "
                                                  "baselines (LightGCN, EASE, item-kNN, popularity)",
                                     add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter)
    _run_options(evaluate, "every compared model that reads it (an option none of them reads is an error)")
    evaluate.add_argument("--methods", nargs="+", default=None, metavar="MODEL",
                          help="models to compare (default: the published model and the four baselines; "
                               "registered: %s)" % ", ".join(_model_names()))
    evaluate.add_argument("--k", type=int, nargs="+", default=[10, 20], help="cut-offs (default 10 20)")
    evaluate.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    evaluate.add_argument("--sample", type=int, default=None, metavar="USERS",
                          help="evaluate on the synthetic sample with this many users instead of Neo4j")
    evaluate.add_argument("--explanations", action="store_true",
                          help="instead: how faithful the active model's explanations are (coverage, deletion "
                               "test, PN@K, PS@K, each against a random valid path); the model stays frozen")
    evaluate.add_argument("--users", type=int, default=100,
                          help="with --explanations: users evaluated (default %(default)s)")
    evaluate.set_defaults(func=_eval)

    recommend = subparsers.add_parser("recommend", help="a user's recommendations from the active model",
                                      description="The user's materialised top-K (RECOMMENDED edges of the active "
                                                  "model); popular items of the user's categories, marked as a "
                                                  "fallback, when the model has none for the user.")
    recommend.add_argument("--user", required=True, help="user id")
    recommend.add_argument("--k", type=int, default=10, help="how many (default %(default)s)")
    recommend.add_argument("--json", action="store_true", help="print JSON instead of a table")
    recommend.set_defaults(func=_recommend)

    export = subparsers.add_parser("export-recommendations",
                                   help="every recommendation of the active model as CSV (user_id,item_id,rank,score)")
    export.add_argument("--out", type=Path, required=True, help="CSV file to write ('-' for standard output)")
    export.set_defaults(func=_export)

    items = subparsers.add_parser("items", help="items created after training")
    items_commands = items.add_subparsers(dest="items_command", required=True, metavar="{add}")
    add = items_commands.add_parser(
        "add", help="make items created after training recommendable now, from their knowledge links",
        description="The active model scores each item from its links to entities it was trained with (genres, "
                    "creators, tags...), with its learned per-relation weights; its embedding is written and users "
                    "whose items share those entities get it in their next live list, explained through the link. "
                    "Its interactions add collaborative weight from the next `kgrec train`.")
    add.add_argument("item_ids", nargs="+", metavar="ITEM_ID", help="ids of the items (already in the graph, with "
                                                                    "their links)")
    add.set_defaults(func=_add_items)


def _model_names() -> list[str]:
    from kgrec.engine.models import MODELS

    return list(MODELS)


class _HelpWithModelOptions(argparse.Action):
    """``--help`` that ends with every model's options and their defaults. Built only when
    asked for: listing them imports every model (and torch), which no other ``kgrec`` call needs."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help, with every model's options, and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import warnings

        with warnings.catch_warnings():  # torch.jit's deprecation, meant for library authors
            warnings.simplefilter("ignore", FutureWarning)
            parser.epilog = model_options_help()
        parser.print_help()
        parser.exit()


class _SetOption(argparse.Action):
    """``--epochs N`` and ``--dim N``: the same as ``--set epochs=N`` (checked the same way)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), (option_string.lstrip("-"), values)])


def _assignment(text: str) -> tuple[str, str]:
    """``name=value`` of ``--set``."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def model_options_help() -> str:
    """Every registered model's options with their defaults, one model a paragraph."""
    import textwrap

    from kgrec.engine.models.base import model_class
    from kgrec.engine.models.options import describe

    lines = ["model options (--set NAME=VALUE, repeatable; a list is comma-separated, e.g. --set lambdas=100,300):"]
    names = _model_names()
    column = max(map(len, names)) + 4
    for name in names:
        lines.append(textwrap.fill(describe(model_class(name).options_class), width=100,
                                   initial_indent=f"  {name:<{column - 2}}", subsequent_indent=" " * column))
    return "\n".join(lines)


def _run_options(parser: argparse.ArgumentParser, applies_to: str) -> None:
    from kgrec.engine.training.config import TrainConfig

    defaults = TrainConfig()
    parser.add_argument("-h", "--help", action=_HelpWithModelOptions)
    parser.add_argument("--set", dest="options", action="append", type=_assignment, default=[], metavar="NAME=VALUE",
                        help=f"a model option, for {applies_to}; repeatable; the options of every model are "
                             "listed below")
    parser.add_argument("--epochs", dest="options", action=_SetOption, type=int, metavar="N",
                        help="the same as --set epochs=N (models trained by gradient: lightgcn, kgat)")
    parser.add_argument("--dim", dest="options", action=_SetOption, type=int, metavar="N",
                        help="the same as --set dim=N (embedding size)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default %(default)s)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default=defaults.device,
                        help="where the models compute: the attention model's factorisations and products, "
                             "EASE's factorisation, LightGCN and KGAT (default %(default)s: CUDA when present)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default 0: the cores other processes leave idle when the command "
                             "starts, measured over half a second, at least 1; threads beyond the idle cores wait "
                             "on each other, 2 threads on 2 busy cores measured up to 20x slower than 1)")


def _config(args: argparse.Namespace, **run: str):
    """The run's options (``run``: the model to train) from ``args``; sets torch's threads."""
    import torch

    from kgrec.engine.training.config import TrainConfig

    threads = args.threads or idle_cores()
    torch.set_num_threads(threads)
    if args.threads:
        log.info("computing on %d CPU threads (--threads)", threads)
    else:
        log.info("computing on %d of %d CPU cores: those idle when the command started (--threads N to choose)",
                 threads, os.cpu_count() or 1)
    config = TrainConfig(seed=args.seed, device=args.device, **run)
    config.resolved_device()  # a device that is not there is one line now, not a failure after the pull
    return config


def _options_per_method(methods: list[str], options: dict[str, str]) -> dict[str, dict[str, str]]:
    """``kgrec eval --set``: each option goes to every compared model that reads it.

    Raises:
        UnknownModelError: a method that is not registered.
        UnknownOptionError: an option that none of ``methods`` reads.
    """
    from kgrec.engine.models.base import model_class
    from kgrec.engine.models.options import UnknownOptionError, option_names

    reads = {method: option_names(model_class(method).options_class) for method in methods}
    unread = [name for name in options if not any(name in names for names in reads.values())]
    if unread:
        raise UnknownOptionError(f"no compared model reads {', '.join(unread)}; " + "; ".join(
            f"{method} reads {', '.join(names) or 'no options'}" for method, names in reads.items()))
    return {method: {k: v for k, v in options.items() if k in names} for method, names in reads.items()}


def idle_cores(sample_s: float = 0.5) -> int:
    """Cores not busy with other processes now, at least 1: the CPU time the whole machine
    spent over a short sample (``/proc/stat``), or the 1-minute load average where there is no
    ``/proc``.

    Why: the dense factorisations and products of fitting run all torch threads in lock step, so
    a thread that has to wait for a core busy elsewhere stalls the others; on an idle machine
    (the Neo4j server waits while kgrec fits) every core helps. The load average trails by a
    minute: right after a load, it still counts the server's work of the load as busy."""
    import os

    cores = os.cpu_count() or 1
    busy = _busy_cores(sample_s)
    return max(1, min(cores, round(cores - (os.getloadavg()[0] if busy is None else busy))))


def _busy_cores(sample_s: float) -> float | None:
    """Cores' worth of CPU time spent (not idle, not waiting on disk) over ``sample_s``
    seconds, from ``/proc/stat``; None where it cannot be read."""
    import os
    import time

    def times() -> list[int] | None:
        try:
            with open("/proc/stat") as stat:
                return [int(value) for value in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None

    before = times()
    time.sleep(sample_s)
    after = times()
    if not before or not after or len(after) < 5:
        return None
    spent = [b - a for a, b in zip(before, after)]
    total, idle = sum(spent[:8]), spent[3] + spent[4]  # user nice system idle iowait irq softirq steal
    return (total - idle) / total * (os.cpu_count() or 1) if total > 0 else None


def _pull(connection: Neo4jSettings):
    from kgrec.config import open_driver
    from kgrec.engine.neo4j.pull import pull_graph

    with open_driver(connection) as driver:
        columns, stats = pull_graph(driver, connection.database)
    log.info("pulled %d relationships in %.1fs", stats.relationships, stats.seconds)
    return columns


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from kgrec.engine.data.graph import columns_from_tabular
    from kgrec.engine.evaluation.evaluate import format_table, run_evaluation

    config = _config(args)
    if args.explanations:
        return _eval_explanations(args, settings)
    from kgrec.engine.models import EVALUATED

    methods = args.methods or EVALUATED
    options = _options_per_method(methods, dict(args.options))  # an unknown method or option: one line, now
    if args.sample:
        from kgrec.loaders.synthetic import generate_sample

        columns = columns_from_tabular(generate_sample(n_users=args.sample, seed=args.seed))
    else:
        columns = _pull(settings.neo4j)
    results = run_evaluation(columns, config, ks=tuple(args.k), methods=methods, options=options)
    print(format_table(results, tuple(args.k)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _eval_explanations(args: argparse.Namespace, settings: Settings) -> int:
    from kgrec.config import open_driver
    from kgrec.engine.evaluation.faithfulness import HistoryScorer, evaluate_sample
    from kgrec.engine.neo4j.persist import load_active

    connection = settings.neo4j
    with open_driver(connection) as driver:
        model, columns, version = load_active(driver, connection.database, settings.models_dir)
        report = evaluate_sample(driver, connection.database, HistoryScorer(model, columns),
                                 n_users=args.users, k=args.k[-1], seed=args.seed)
    print(f"model {version}\n{report.table()}")
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from kgrec.config import open_driver
    from kgrec.engine.models.base import create
    from kgrec.engine.pipeline import train_and_publish

    config = _config(args, model=args.model)
    create(args.model, config, dict(args.options))  # an option the model does not read: one line, before connecting
    connection = settings.neo4j
    with open_driver(connection) as driver:
        version, stats = train_and_publish(driver, connection.database, config, top_k=args.top_k,
                                           checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                                           model_dir=settings.models_dir, options=dict(args.options))
    print(f"model {version} active: val NDCG@20 {stats.train.get('val_ndcg@20', float('nan')):.4f}, "
          f"{stats.write.embeddings} embeddings, {stats.write.attention} attention values, "
          f"{stats.write.recommendations} recommendations; saved to {stats.checkpoint}")
    return 0


def _recommend(args: argparse.Namespace, settings: Settings) -> int:
    from kgrec.config import open_driver
    from kgrec.serving import library

    connection = settings.neo4j
    with open_driver(connection) as driver:
        if not library.user_exists(driver, connection.database, args.user):
            raise UnknownUserError(f"no user {args.user!r} in database {connection.database!r}; "
                                   "`kgrec load` adds users, or check the id")
        recs = library.recommendations(driver, connection.database, args.user, k=args.k)
        fallback = not recs
        if fallback:
            recs = library.fallback_recommendations(driver, connection.database, args.user, k=args.k)
    if args.json:
        print(json.dumps({"user_id": args.user, "fallback": fallback,
                          "recommendations": [r.model_dump(exclude_none=True) for r in recs]}, indent=2))
        return 0
    if fallback:
        print(f"FALLBACK: the active model has no recommendations for {args.user!r} (no trained model yet, or the "
              "user is newer than it); most popular unseen items of the user's categories, then overall. "
              "Score = number of interactions.")
    else:
        print(f"Recommendations for {args.user!r} from model {recs[0].model}:")
    for rec in recs:
        print(f"{rec.rank:>4}  {rec.score:>10.4f}  {rec.item_id}  {rec.title or ''}".rstrip())
    return 0


def _add_items(args: argparse.Namespace, settings: Settings) -> int:
    from kgrec.config import open_driver
    from kgrec.engine.neo4j.new_items import catch_up, go_live
    from kgrec.engine.neo4j.persist import ModelNotAvailableError, load_frozen
    from kgrec.serving import library

    connection = settings.neo4j
    with open_driver(connection) as driver:
        active = library.active_model(driver, connection.database)
        if active is None or not active.checkpoint:
            raise ModelNotAvailableError(f"database {connection.database!r} has no active model with a saved "
                                         "checkpoint; run `kgrec train` first")
        frozen = load_frozen(Path(active.checkpoint), settings.models_dir)
        catch_up(driver, connection.database, frozen)
        added = go_live(driver, connection.database, frozen, args.item_ids)
    for item_id in added.item_ids:
        print(f"{item_id}: recommendable from its links by model {frozen.version}; embedding written")
    if added.not_recommendable:
        raise NotRecommendableError("not recommendable: " + "; ".join(added.not_recommendable.values()))
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    import contextlib
    import sys

    from kgrec.config import open_driver
    from kgrec.engine.neo4j.export import export_recommendations

    connection = settings.neo4j
    with open_driver(connection) as driver, contextlib.ExitStack() as files:
        out = sys.stdout if str(args.out) == "-" else files.enter_context(args.out.open("w", newline=""))
        stats = export_recommendations(driver, connection.database, out)
    if stats.model is None:
        log.warning("no active model: wrote the header only (run `kgrec train` first)")
    log.info("wrote %d recommendations of model %s to %s", stats.rows, stats.model, args.out)
    return 0
