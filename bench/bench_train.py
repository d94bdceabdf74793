"""Training benchmark of the published model (``attention``): from the graph in Neo4j to an
active model, each phase timed, and the same model under ``kgrec eval``.

Default: runs :func:`~kgrec.engine.pipeline.train_and_publish` (what ``kgrec train`` runs) on
the graph in Neo4j and prints one JSON object: the graph's users, items and interactions (the
item-item weights are items x items floats), seconds for the pull, the fit and each of its
phases (knowledge graph, Gram matrices, every factorisation, the attention's Adam steps, the
dense knowledge messages, every validation of the lambda x knowledge-share grid), the model output (scores, evidence,
attention, embeddings), the checkpoint file, the write-back and its phases, the total, the
peak RSS (``resource.getrusage``: the largest the process ever was), the process's CPU seconds
(in all and per phase of the fit: with one thread, what the work takes on a core of its own) and
the load average before and after (the machines we measure on are shared: read wall seconds
with it).

    export KGREC_HOME=... KGREC_BOLT_PORT=...     # the local server (kgrec neo4j start)
    .venv/bin/python bench/bench_train.py --interactions 1000000 --load --out bench/results/train.json
    .venv/bin/python bench/bench_train.py --interactions 650000 --implicit --load --out bench/results/train.json

``--load`` empties the local server's database (its files, with the server stopped) and
bulk-imports the synthetic sample of ``--interactions`` (``--implicit``: the same sample
without ratings and timestamps, an implicit log); without it, the graph in the database is
trained as it is. ``--command`` also times ``kgrec train`` as a command, start to exit.

Other measurements (no database):

- ``--eval``: ``kgrec eval --methods attention`` on the in-memory sample of ``--interactions``
  (fit on train, choose on validation, refit, rank every test user), seconds and NDCG@20;
- ``--factorisations ITEMS``: :math:`(G + \\lambda I)^{-1}` for the three penalties of the grid
  at ``ITEMS`` items, by a Cholesky factorisation per penalty against one eigendecomposition
  for all of them: seconds and the largest difference to float64;
- ``--kgat``: the earlier KGAT-style model's seconds per batch of BPR triples
  (``--batches``, ``--batch-size``, ``--fanouts``), as measured before it was retired.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from recording import print_and_record

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000, help="sample size (default 1,000,000)")
    parser.add_argument("--items", type=int, help="catalogue size of the sample (default: one item per 60 interactions)")
    parser.add_argument("--implicit", action="store_true", help="the sample without ratings and timestamps")
    parser.add_argument("--load", action="store_true", help="empty the database and bulk-import the sample first")
    parser.add_argument("--command", action="store_true", help="also time `kgrec train` as a command")
    parser.add_argument("--eval", action="store_true", help="instead: kgrec eval's attention run, in memory")
    parser.add_argument("--factorisations", type=int, metavar="ITEMS",
                        help="instead: Cholesky per penalty against one eigendecomposition at ITEMS items")
    parser.add_argument("--kgat", action="store_true", help="instead: the earlier KGAT model's seconds per batch")
    parser.add_argument("--batches", type=int, default=10, help="with --kgat: timed batches (default 10)")
    parser.add_argument("--batch-size", type=int, help="with --kgat: triples per batch (default KGATConfig's)")
    parser.add_argument("--fanouts", type=int, nargs="+", help="with --kgat: edges per node and hop")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    result = {"threads": args.threads, "cpus": os.cpu_count(), "load_average_at_start": _load_average()}
    # keys of the results file: the earlier KGAT batches were recorded under the bare size
    if args.factorisations:
        result.update(_factorisations(args.factorisations))
        key = f"factorisations-{args.factorisations}"
    elif args.kgat:
        result.update(_kgat(args))
        key = str(args.interactions)
    elif args.eval:
        result.update(_eval(args))
        key = f"eval-attention-{args.interactions}"
    else:
        result.update(_publish(args))
        key = (f"attention-{args.interactions}{f'-items{args.items}' if args.items else ''}"
               f"{'-implicit' if args.implicit else ''}"
               f"{f'-threads{args.threads}' if args.threads != 1 else ''}")
    result["load_average_at_end"] = _load_average()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print_and_record(result, args.out, key)


def _publish(args: argparse.Namespace) -> dict:
    """Pull, fit, output, save, write back: what ``kgrec train`` does, each phase timed."""
    from kgrec.config import open_driver
    from kgrec.engine.pipeline import train_and_publish
    from kgrec.engine.training.config import TrainConfig
    from kgrec.settings import read_settings

    server = read_settings()
    settings = server.neo4j
    result: dict = {"model": "attention", "interactions_requested": args.interactions, "implicit": args.implicit}
    if args.load:
        result["bulk_load_seconds"] = _load(server, args.interactions, args.items, args.implicit, args.seed)
    with open_driver(settings) as driver, tempfile.TemporaryDirectory() as models:
        started, started_cpu = time.monotonic(), time.process_time()
        version, stats = train_and_publish(driver, settings.database, TrainConfig(seed=args.seed), progress=False,
                                           model_dir=Path(models))
        total, total_cpu = time.monotonic() - started, time.process_time() - started_cpu
        result["checkpoint"] = _checkpoint(Path(models))
        counts = driver.execute_query("MATCH (u:User) WITH count(u) AS users MATCH (i:Item) "
                                      "RETURN users, count(i) AS items", database_=settings.database).records[0]
    phases = stats.fit_phases
    result.update({
        "version": version,
        "users": counts["users"],
        "items": counts["items"],
        "item_item_solve": stats.train.get("item_item_solve"),
        "dense_item_item_weights_mb": round(counts["items"] ** 2 * 4 / 2**20),
        "relationships": stats.pull.relationships,
        "val_ndcg@20": round(stats.train.get("val_ndcg@20", float("nan")), 4),
        "lambda": stats.train.get("lambda"),
        "knowledge_share": stats.train.get("knowledge_share"),
        "seconds": {phase: round(s, 1) for phase, s in stats.seconds.items()},
        "fit_seconds": {
            "knowledge_graph": phases.get("knowledge_graph"),
            "gram_matrices": phases.get("gram"),
            "factorisations": phases.get("factorisations"),
            "attention_steps": phases.get("attention_steps"),
            "knowledge_messages": phases.get("knowledge_messages"),
            "validations": phases.get("validations"),
        },
        "fit_cpu_seconds": phases.get("cpu", {}),
        "writeback_seconds": {phase: round(s, 1) for phase, s in stats.write.seconds.items()},
        "total_seconds": round(total, 1),
        "total_cpu_seconds": round(total_cpu, 1),
    })
    if args.command:
        result["command"] = _command()
    return result


def _checkpoint(models: Path) -> dict:
    """The saved model's size and the seconds the API takes to load it (``load_frozen``)."""
    from kgrec.engine.neo4j.persist import load_frozen

    path = next(models.glob("*.pt"))
    started = time.monotonic()
    load_frozen(path, models_root=models)
    return {"mb": round(path.stat().st_size / 2**20, 1), "load_seconds": round(time.monotonic() - started, 2)}


def _command() -> dict:
    """``kgrec train`` as a command: wall seconds from start to exit (the new model active),
    and its peak RSS."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "kgrec.cli", "train"], capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"kgrec train failed:\n{done.stderr}")
    return {"seconds": round(seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "last_line": done.stdout.strip().splitlines()[-1]}


def _load(server, interactions: int, items: int | None, implicit: bool, seed: int) -> float:
    """Empty the local server's database and bulk-import the sample; seconds of the import."""
    from kgrec.loaders.bulk import bulk_write_graph
    from kgrec.loaders.synthetic import generate_sample
    from kgrec.neo4j_server import lifecycle
    from kgrec.neo4j_server.admin import remove_store

    graph = generate_sample(n_interactions=interactions, n_items=items, seed=seed)
    if implicit:
        graph.interactions = graph.interactions.drop(columns=["rating", "ts"])
        graph.interactions["weight"] = 1.0
    layout = server.layout
    lifecycle.stop(layout)
    remove_store(layout, server.neo4j.database)
    lifecycle.start(layout, settings=server)
    return round(bulk_write_graph(graph, server, progress=False).seconds, 1)


def _eval(args: argparse.Namespace) -> dict:
    """``kgrec eval --methods attention`` on the in-memory sample."""
    from kgrec.engine.data.graph import columns_from_tabular
    from kgrec.engine.evaluation.evaluate import run_evaluation
    from kgrec.engine.training.config import TrainConfig
    from kgrec.loaders.synthetic import generate_sample

    graph = generate_sample(n_interactions=args.interactions, seed=args.seed)
    columns = columns_from_tabular(graph)
    started = time.perf_counter()
    metrics = run_evaluation(columns, TrainConfig(seed=args.seed), methods=("attention",))["attention"]
    return {"interactions_requested": args.interactions, "interactions": len(graph.interactions),
            "users": len(graph.users), "items": len(graph.items),
            "fit_seconds": metrics["fit_seconds"], "fit_and_eval_seconds": metrics["seconds"],
            "run_evaluation_seconds": round(time.perf_counter() - started, 2),
            "ndcg@20": round(metrics["ndcg@20"], 4)}


def _factorisations(items: int) -> dict:
    """(G + lambda I)^-1 for every penalty of the attention model's grid, two ways, on a Gram
    matrix of ``items`` items (a synthetic sample's interactions, 60 per item)."""
    import numpy as np
    import torch

    from kgrec.engine.data.graph import columns_from_tabular
    from kgrec.engine.data.split import interaction_matrix
    from kgrec.engine.models.ease import ease_from_gram, gram_matrix
    from kgrec.engine.models.item_graph_attention import ItemGraphAttentionConfig
    from kgrec.loaders.synthetic import generate_sample

    lambdas = ItemGraphAttentionConfig().lambdas
    gram = gram_matrix(interaction_matrix(columns_from_tabular(generate_sample(n_interactions=items * 60, seed=0))))
    n = gram.shape[0]
    exact = {}
    for lambda_reg in lambdas:
        shifted = gram.double()
        shifted.diagonal().add_(lambda_reg)
        exact[lambda_reg] = torch.linalg.inv(shifted)

    def error(p: torch.Tensor, lambda_reg: float) -> float:
        return float((p.double() - exact[lambda_reg]).abs().max() / exact[lambda_reg].abs().max())

    cholesky_s, cholesky_err = [], []
    for lambda_reg in lambdas:
        shifted = gram.clone()
        shifted.diagonal().add_(lambda_reg)
        seconds, p = _timed(lambda: torch.cholesky_inverse(torch.linalg.cholesky(shifted)))
        cholesky_s.append(round(seconds, 2))
        cholesky_err.append(error(p, lambda_reg))
    eigh_s, (values, vectors) = _timed(lambda: torch.linalg.eigh(gram))
    products_s, eigh_err = [], []
    for lambda_reg in lambdas:
        seconds, p = _timed(lambda: (vectors / (values + lambda_reg)) @ vectors.T)
        products_s.append(round(seconds, 2))
        eigh_err.append(error(p, lambda_reg))
    ease_s, _ = _timed(lambda: ease_from_gram(gram, lambdas[0]))
    return {"items": n, "lambdas": list(lambdas),
            "cholesky_seconds": cholesky_s, "cholesky_total_seconds": round(sum(cholesky_s), 2),
            "cholesky_max_relative_error": float(np.max(cholesky_err)),
            "eigh_seconds": round(eigh_s, 2), "eigh_products_seconds": products_s,
            "eigh_total_seconds": round(eigh_s + sum(products_s), 2),
            "eigh_max_relative_error": float(np.max(eigh_err)),
            "ease_from_gram_seconds": round(ease_s, 2)}


def _kgat(args: argparse.Namespace) -> dict:
    """The earlier KGAT-style model: median seconds per batch of BPR triples and what it samples."""
    import itertools

    import torch

    from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular
    from kgrec.engine.data.sampling import TripleSampler
    from kgrec.engine.data.split import temporal_split
    from kgrec.engine.models.kgat import KGATConfig, KGATTask
    from kgrec.engine.training.config import TrainConfig
    from kgrec.engine.training.train import seed_everything
    from kgrec.graph_schema import ITEM
    from kgrec.loaders.synthetic import generate_sample

    config = TrainConfig(seed=args.seed, model="kgat")
    defaults = KGATConfig()
    options = KGATConfig(batch_size=args.batch_size or defaults.batch_size,
                         fanouts=tuple(args.fanouts or defaults.fanouts))
    columns = columns_from_tabular(generate_sample(n_interactions=args.interactions, seed=args.seed))
    seed_everything(config.seed)
    split = temporal_split(columns, test_fraction=0.0)
    train_columns = split.fit_columns(columns, split.train)
    task = KGATTask(train_columns, options, config)
    users, items = train_columns.edges[INTERACTION_KEY]
    triples = TripleSampler(users, items, len(train_columns.node_ids[ITEM]), options.batch_size, config.seed)
    optimizer = torch.optim.Adam(task.model.parameters(), lr=options.lr)
    batches = itertools.cycle(triples)  # a small graph has fewer batches than the timing takes

    def step() -> None:
        optimizer.zero_grad()
        task.loss(*next(batches)).backward()
        optimizer.step()

    def sample() -> None:
        u, p, n = next(batches)
        task.sampler.sample(torch.cat([u + task.user_offset, p + task.item_offset, n + task.item_offset]))

    step()  # warm-up
    batch_wall = statistics.median(_timed(step)[0] for _ in range(args.batches))
    sample_wall = statistics.median(_timed(sample)[0] for _ in range(args.batches))
    u, p, n = next(batches)
    sub = task.sampler.sample(torch.cat([u + task.user_offset, p + task.item_offset, n + task.item_offset]))
    task.model.eval()
    freeze_wall, _ = _timed(task.freeze)
    return {"model": "kgat", "interactions_requested": args.interactions, "nodes": task.graph.num_nodes,
            "message_edges": task.graph.edge_index.size(1), "batch_size": options.batch_size,
            "fanouts": list(options.fanouts), "subgraph_nodes_per_hop": sub.num_sampled_nodes,
            "subgraph_edges_per_hop": sub.num_sampled_edges, "batches_timed": args.batches,
            "batch_seconds_median": round(batch_wall, 4), "sample_seconds_median": round(sample_wall, 4),
            "batches_per_epoch": len(triples), "train_seconds_per_epoch": round(batch_wall * len(triples), 1),
            "freeze_seconds": round(freeze_wall, 2)}


def _timed(run: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of one call of ``run``, and what it returned."""
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    main()
