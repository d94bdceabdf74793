"""Engine benchmark: pull the graph from Neo4j, train the attention model, write it back.

Runs :func:`kgrec.engine.pipeline.train_and_publish` (what ``kgrec train`` runs) on the graph
in Neo4j and prints one JSON object: pull seconds and relationships/s, seconds per epoch
(epochs capped by ``--epochs``), write-back embeddings/s and attention values/s with seconds
per write-back phase, and the process's peak RSS. Targets (issue 4): pull >= 500,000
relationships/s, write-back >= 50,000 embeddings/s.

    export KGREC_HOME=... KGREC_BOLT_PORT=...   # the server kgrec neo4j start runs
    .venv/bin/python bench/bench_load.py --interactions 1000000   # or pass --load below
    .venv/bin/python bench/bench_engine.py --interactions 1000000 --out bench/results/engine.json
    .venv/bin/python bench/bench_engine.py --interactions 1000000 --io-only --out bench/results/engine_io.json

The graph is assumed to be the synthetic sample of ``--interactions`` loaded by bench_load.py;
``--load`` empties the database and loads it here first. ``--io-only`` measures the two Neo4j
paths alone (an epoch at 1M takes ~25 minutes): it pulls, then writes back random embeddings,
attention and top-K lists of the shapes a trained model produces.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from recording import print_and_record

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000, help="sample size (default 1,000,000)")
    parser.add_argument("--load", action="store_true", help="empty the database and load the sample first")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (default 2)")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--io-only", action="store_true", help="pull and write back random output, no training")
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()

    import torch

    from kgrec.config import open_driver
    from kgrec.engine.pipeline import train_and_publish
    from kgrec.engine.training.config import TrainConfig

    torch.set_num_threads(args.threads)
    from kgrec.settings import read_settings

    settings = read_settings().neo4j
    result: dict = {"interactions_requested": args.interactions, "epochs": args.epochs, "dim": args.dim,
                    "threads": args.threads}
    with open_driver(settings) as driver, tempfile.TemporaryDirectory() as models:
        if args.load:
            result["load_seconds"] = _load(driver, settings.database, args.interactions, args.seed)
        if args.io_only:
            for training_only in ("epochs", "threads"):
                del result[training_only]
            result.update(_io_only(driver, settings.database, args.dim, args.seed))
            print_and_record(result, args.out, args.interactions)
            return
        started = time.monotonic()
        version, stats = train_and_publish(driver, settings.database,
                                           TrainConfig(model="kgat", seed=args.seed), progress=False,
                                           model_dir=Path(models),
                                           options={"epochs": args.epochs, "dim": args.dim, "patience": args.epochs})
        total = time.monotonic() - started
    epochs = [round(e["seconds"], 2) for e in stats.train.history]
    result.update({
        "model": version,
        **_io_figures(stats.pull, stats.write),
        "seconds_per_epoch": round(sum(epochs) / len(epochs), 2) if epochs else None,
        "epoch_seconds": epochs,
        "model_output_seconds": round(stats.seconds["output"], 2),
        "total_seconds": round(total, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    })
    print_and_record(result, args.out, args.interactions)


def _io_only(driver, database: str, dim: int, seed: int) -> dict:
    """Pull, then write back random output of a trained model's shapes (20 items per user)."""
    import numpy as np

    from kgrec.engine.neo4j.pull import pull_graph
    from kgrec.engine.neo4j.writeback import write_model
    from kgrec.engine.output import ModelOutput

    rng = np.random.default_rng(seed)
    columns, pull = pull_graph(driver, database)
    n_users, n_items = len(columns.node_ids["User"]), len(columns.node_ids["Item"])
    output = ModelOutput(
        version=f"io-only-{time.strftime('%Y%m%dT%H%M%S')}",
        embeddings={label: rng.standard_normal((len(ids), dim)).astype(np.float32)
                    for label, ids in columns.node_ids.items()},
        attention={key: rng.random(len(head)).astype(np.float32) for key, (head, _) in columns.edges.items()},
        top_items=rng.integers(0, n_items, (n_users, 20)),
        top_scores=np.sort(rng.random((n_users, 20)).astype(np.float32))[:, ::-1])
    write = write_model(driver, database, columns, output, progress=False)
    return {"io_only": True, "model": output.version, **_io_figures(pull, write),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _io_figures(pull, write) -> dict:
    """The pull's and the write-back's figures (PullStats, WriteStats)."""
    return {
        "nodes": pull.nodes,
        "relationships": pull.relationships,
        "pull_seconds": round(pull.seconds, 2),
        "pull_relationships_per_s": round(pull.relationships_per_s),
        "writeback_embeddings": write.embeddings,
        "writeback_embeddings_per_s": round(write.embeddings_per_s),
        "writeback_attention": write.attention,
        "writeback_attention_per_s": round(write.attention_per_s),
        "writeback_seconds": {phase: round(s, 2) for phase, s in write.seconds.items()},
    }


def _load(driver, database: str, interactions: int, seed: int) -> float:
    """Empty the database and load the synthetic sample, as bench_load.py does; seconds."""
    from kgrec.loaders import write_graph
    from kgrec.loaders.synthetic import generate_sample

    sys.path.insert(0, str(REPO / "tests"))
    from conftest import wipe_database  # the test suite's way to empty a database

    wipe_database(driver, database)
    started = time.monotonic()
    write_graph(driver, generate_sample(n_interactions=interactions, seed=seed), database=database, progress=False)
    return round(time.monotonic() - started, 1)


if __name__ == "__main__":
    main()
