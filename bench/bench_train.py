"""Training benchmark without Neo4j: one epoch of the attention model, split into its parts.

Builds the synthetic sample of ``--interactions`` in memory, splits it as ``kgrec train`` does
(:func:`~kgrec.engine.pipeline.train_and_publish`: validation slice only) and prints one JSON
object: median seconds (wall and CPU) per batch of BPR triples over ``--batches`` batches after
one warm-up, of which sampling the subgraph, the subgraph's nodes and edges per hop, the
batches in an epoch and the training seconds per epoch they imply, and the per-epoch
validation (``freeze``: propagation over the whole graph; ``validation_ndcg``: scoring every
validation user against every item). Medians of a few batches, because the machines we
measure on are shared; a whole epoch at 1M interactions is ~900 batches.

    .venv/bin/python bench/bench_train.py --interactions 1000000 --out bench/results/train.json
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from recording import print_and_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000, help="sample size (default 1,000,000)")
    parser.add_argument("--batches", type=int, default=10, help="timed batches (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, help="triples per batch (default TrainConfig's)")
    parser.add_argument("--fanouts", type=int, nargs="+", help="edges per node and hop (default TrainConfig's)")
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()

    import torch

    from kgrec.engine.evaluation.evaluate import validation_ndcg
    from kgrec.engine.data.graph import INTERACTION_KEY, columns_from_tabular
    from kgrec.engine.data.sampling import TripleSampler
    from kgrec.engine.data.split import temporal_split
    from kgrec.engine.training.config import TrainConfig
    from kgrec.engine.models.kgat import KGATTask
    from kgrec.engine.training.train import seed_everything
    from kgrec.graph_schema import ITEM
    from kgrec.loaders.synthetic import generate_sample

    torch.set_num_threads(args.threads)
    config = TrainConfig(seed=args.seed)
    config.batch_size = args.batch_size or config.batch_size
    config.fanouts = tuple(args.fanouts or config.fanouts)
    columns = columns_from_tabular(generate_sample(n_interactions=args.interactions, seed=args.seed))
    seed_everything(config.seed)
    split = temporal_split(columns, test_fraction=0.0)
    train_columns = split.fit_columns(columns, split.train)
    task = KGATTask(train_columns, config)
    users, items = train_columns.edges[INTERACTION_KEY]
    triples = TripleSampler(users, items, len(train_columns.node_ids[ITEM]), config.batch_size, config.seed)
    optimizer = torch.optim.Adam(task.model.parameters(), lr=config.lr)
    batches = itertools.cycle(triples)  # a small graph has fewer batches than the timing takes

    def step() -> None:
        optimizer.zero_grad()
        task.loss(*next(batches)).backward()
        optimizer.step()

    def sample() -> None:
        u, p, n = next(batches)
        task.sampler.sample(torch.cat([u + task.user_offset, p + task.item_offset, n + task.item_offset]))

    step()  # warm-up
    batch_wall, batch_cpu = _medians(step, args.batches)
    sample_wall, _ = _medians(sample, args.batches)
    u, p, n = next(batches)
    sub = task.sampler.sample(torch.cat([u + task.user_offset, p + task.item_offset, n + task.item_offset]))
    task.model.eval()
    freeze_wall, freeze_cpu, scorer = _timed(task.freeze)
    validate_wall, validate_cpu, _ = _timed(lambda: validation_ndcg(scorer, split))
    print_and_record({
        "interactions_requested": args.interactions,
        "threads": args.threads,
        "nodes": task.graph.num_nodes,
        "message_edges": task.graph.edge_index.size(1),
        "batch_size": config.batch_size,
        "fanouts": list(config.fanouts),
        "subgraph_nodes_per_hop": sub.num_sampled_nodes,
        "subgraph_edges_per_hop": sub.num_sampled_edges,
        "batches_timed": args.batches,
        "batch_seconds_median": round(batch_wall, 4),
        "batch_cpu_seconds_median": round(batch_cpu, 4),
        "sample_seconds_median": round(sample_wall, 4),
        "batches_per_epoch": len(triples),
        "train_seconds_per_epoch": round(batch_wall * len(triples), 1),
        "freeze_seconds": round(freeze_wall, 2),
        "freeze_cpu_seconds": round(freeze_cpu, 2),
        "validation_seconds": round(validate_wall, 2),
        "validation_cpu_seconds": round(validate_cpu, 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }, args.out, args.interactions)


def _timed(run: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and CPU seconds of one call of ``run``, and what it returned."""
    started, started_cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - started, time.process_time() - started_cpu, result


def _medians(run: Callable[[], object], times: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``times`` calls of ``run``."""
    runs = [_timed(run) for _ in range(times)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


if __name__ == "__main__":
    main()
