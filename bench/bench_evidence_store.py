"""What storing each recommendation's channel parts costs the write-back (JSON on stdout).

The write-back stores on every RECOMMENDED edge the evidence and its contributions and, since
explanations follow the channel that carries the weight, how each contribution splits
(``evidence_collaborative`` and the strongest knowledge links). This times ``write_model`` of
the same top-K lists with and without that split, alternating, on the graph the configured
server holds (e.g. the bulk-loaded 1M sample), and the RECOMMENDED step alone. The lists are
drawn at random from the graph's own items and entities (the write-back's cost depends on the
sizes, not on the values), so no training is needed.

    kgrec load sample --size 1000000 --bulk
    python bench/bench_evidence_store.py --repeat 2 --out bench/results/evidence_store.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path

import numpy as np

from kgrec.config import Neo4jSettings, open_driver
from kgrec.engine.models.base import ChannelParts
from kgrec.engine.models.item_graph_attention import LINKS_KEPT
from kgrec.engine.neo4j.output import EVIDENCE
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.neo4j.writeback import ModelOutput, write_model
from kgrec.graph_schema import ITEM, USER
from recording import print_and_record


def _output(columns, k: int, channels: bool, rng: np.random.Generator) -> ModelOutput:
    n_users, n_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
    top = np.stack([rng.choice(n_items, k, replace=False) for _ in range(n_users)])
    evidence = rng.integers(0, n_items, (n_users, k, EVIDENCE))
    weights = rng.random((n_users, k, EVIDENCE)).astype(np.float32)
    split = None
    if channels:
        relations = [key for key in columns.edges if key[0] == ITEM and key[2] not in (ITEM, USER)]
        entity_ids = [np.asarray(columns.node_ids[key[2]], dtype=object) for key in relations]
        shape = (n_users, k, EVIDENCE, LINKS_KEPT)
        relation = rng.integers(0, len(relations), shape)
        split = ChannelParts(collaborative=weights * 0.9, knowledge=weights * 0.1,
                             link_relation=relation.astype(np.int16),
                             link_entity=rng.integers(0, min(len(ids) for ids in entity_ids), shape).astype(np.int32),
                             link_part=np.repeat((weights * 0.05)[..., None], LINKS_KEPT, -1),
                             relation_types=[key[1] for key in relations], entity_ids=entity_ids)
    category = next(key for key in columns.edges if key[1] == "IN_CATEGORY")
    return ModelOutput(version=f"bench-{uuid.uuid4().hex[:8]}", embeddings={ITEM: rng.random((n_items, 8))},
                       attention={category: rng.random(len(columns.edges[category][0]))}, top_items=top, top_scores=rng.random((n_users, k)).astype(np.float32),
                       evidence_items=evidence, evidence_weights=weights, evidence_channels=split)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=20, help="recommendations per user (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="write-backs of each kind (default %(default)s)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    settings = Neo4jSettings.from_env()
    rng = np.random.default_rng(0)
    runs: dict[str, list[dict]] = {"without_channels": [], "with_channels": []}
    with open_driver(settings) as driver:
        columns, _ = pull_graph(driver, settings.database)
        outputs = {"without_channels": _output(columns, args.k, False, rng),
                   "with_channels": _output(columns, args.k, True, rng)}
        for _ in range(args.repeat):
            for kind, output in outputs.items():
                output.version = f"bench-{uuid.uuid4().hex[:8]}"
                load = os.getloadavg()[0]
                started = time.monotonic()
                stats = write_model(driver, settings.database, columns, output, progress=False)
                runs[kind].append({"seconds": round(time.monotonic() - started, 1),
                                   "recommended_seconds": round(stats.seconds["recommended"], 1),
                                   "recommendations": stats.recommendations, "load_before": round(load, 1)})
    summary = {kind: {"median_seconds": statistics.median(r["seconds"] for r in found),
                      "median_recommended_seconds": statistics.median(r["recommended_seconds"] for r in found),
                      "runs": found} for kind, found in runs.items()}
    ratio = (summary["with_channels"]["median_recommended_seconds"]
             / summary["without_channels"]["median_recommended_seconds"])
    result = {"benchmark": "evidence_store", "users": len(columns.node_ids[USER]),
              "interactions": int(len(columns.edges[("User", "INTERACTED", "Item")][0])), "k": args.k,
              "evidence": EVIDENCE, "links_kept": LINKS_KEPT, **summary,
              "recommended_ratio_with_to_without": round(ratio, 2)}
    print_and_record(result, args.out, result["interactions"])


if __name__ == "__main__":
    main()
