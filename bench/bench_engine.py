"""Engine benchmark: pull the graph from Neo4j, train the attention model, write it back.

Runs :func:`kgrec.engine.pipeline.train_and_publish` (what ``kgrec train`` runs) on the graph
in Neo4j and prints one JSON object: pull seconds and relationships/s, seconds per epoch
(epochs capped by ``--epochs``), write-back embeddings/s and attention values/s with seconds
per write-back phase, and the process's peak RSS. Targets (issue 4): pull >= 500,000
relationships/s, write-back >= 50,000 embeddings/s.

    export KGREC_HOME=... KGREC_BOLT_PORT=...   # the server kgrec neo4j start runs
    .venv/bin/python bench/bench_load.py --interactions 1000000   # or pass --load below
    .venv/bin/python bench/bench_engine.py --interactions 1000000 --out bench/results/engine.json

The graph is assumed to be the synthetic sample of ``--interactions`` loaded by bench_load.py;
``--load`` empties the database and loads it here first.
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
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()

    import torch

    from kgrec.config import Neo4jSettings, open_driver
    from kgrec.engine.pipeline import train_and_publish
    from kgrec.engine.train import TrainConfig

    torch.set_num_threads(args.threads)
    settings = Neo4jSettings.from_env()
    result: dict = {"interactions_requested": args.interactions, "epochs": args.epochs, "dim": args.dim,
                    "threads": args.threads}
    with open_driver(settings) as driver, tempfile.TemporaryDirectory() as models:
        if args.load:
            result["load_seconds"] = _load(driver, settings.database, args.interactions, args.seed)
        started = time.monotonic()
        version, stats = train_and_publish(driver, settings.database,
                                           TrainConfig(epochs=args.epochs, dim=args.dim, seed=args.seed,
                                                       patience=args.epochs),
                                           progress=False, model_dir=Path(models))
        total = time.monotonic() - started
    epochs = [round(e["seconds"], 2) for e in stats.train.history]
    result.update({
        "model": version,
        "nodes": stats.pull.nodes,
        "relationships": stats.pull.relationships,
        "pull_seconds": round(stats.pull.seconds, 2),
        "pull_relationships_per_s": round(stats.pull.relationships_per_s),
        "seconds_per_epoch": round(sum(epochs) / len(epochs), 2) if epochs else None,
        "epoch_seconds": epochs,
        "model_output_seconds": round(stats.seconds["output"], 2),
        "writeback_embeddings": stats.write.embeddings,
        "writeback_embeddings_per_s": round(stats.write.embeddings_per_s),
        "writeback_attention": stats.write.attention,
        "writeback_attention_per_s": round(stats.write.attention_per_s),
        "writeback_seconds": {phase: round(s, 2) for phase, s in stats.write.seconds.items()},
        "total_seconds": round(total, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    })
    print_and_record(result, args.out, args.interactions)


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
