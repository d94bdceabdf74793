"""Are the explanations the reason the model used? ``kgrec eval --explanations`` on the database's
active model, plus the same channel measures under the rule kgrec used before (JSON on stdout).

Run it on a real graph trained by ``kgrec train`` (decide explanation questions on real data):

    kgrec load movielens ~/.cache/kgrec-data/ml-latest-small && kgrec train
    python bench/bench_explanations.py --users 100 --label ml-latest-small --out bench/results/explanations.json

The measures (``kgrec.engine.evaluation.faithfulness``) recompute every channel part from the
frozen model. ``before`` replays the earlier rule on the same recommendations and evidence: show
a knowledge-graph path whenever the evidence shares an entity with the item, else the
co-interaction path. It credits that rule with the strongest shared link (the query picked one
by attention, not by part), so its fidelity here is an upper bound.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from kgrec.config import open_driver
from kgrec.engine.evaluation.faithfulness import COLD_ITEM, HistoryScorer, evaluate, sample_users
from kgrec.engine.neo4j.persist import load_active
from kgrec.serving import library
from kgrec.settings import read_settings
from recording import print_and_record


def _before(scorer: HistoryScorer, driver, database: str, users: list[str], k: int) -> dict:
    """Channel fidelity and shapes of the top explanations under the earlier rule: the evidence
    of today's top explanation, shown through a shared entity whenever there is one."""
    fidelity, knowledge_paths, cold_knowledge = [], 0, []
    for user in users:
        for rec in library.recommendations(driver, database, user, k=k, paths=1):
            if not rec.explanations:
                continue
            parts = scorer.channel_parts(user, rec.explanations[0].evidence, rec.item_id)
            if not parts:
                continue
            positive = {channel: max(part, 0.0) for channel, part in parts.items()}
            mass = sum(positive.values())
            links = [part for channel, part in positive.items() if channel != "collaborative"]
            shown = max(links) if links else positive["collaborative"]
            knowledge_paths += bool(links)
            fidelity.append(shown / mass if mass > 0 else 0.0)
            if scorer.interactions_of(rec.item_id) <= COLD_ITEM:
                cold_knowledge.append(bool(links))
    return {"rule": "knowledge-graph path whenever the evidence shares an entity with the item",
            "channel_fidelity_upper_bound": float(np.mean(fidelity)) if fidelity else None,
            "top_explanations": len(fidelity), "knowledge_graph_top_paths": knowledge_paths,
            "knowledge_graph_top_share": knowledge_paths / len(fidelity) if fidelity else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="users sampled (default %(default)s)")
    parser.add_argument("--k", type=int, default=10, help="recommendations per user (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="what the database holds, e.g. ml-latest-small")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()

    kgrec_settings = read_settings()
    settings = kgrec_settings.neo4j
    with open_driver(settings) as driver:
        model, columns, version = load_active(driver, settings.database, kgrec_settings.models_dir)
        scorer = HistoryScorer(model, columns)
        users = sample_users(driver, settings.database, args.users, args.seed)
        started = time.monotonic()
        report = evaluate(driver, settings.database, scorer, users, k=args.k, seed=args.seed)
        seconds = time.monotonic() - started
        before = _before(scorer, driver, settings.database, users, args.k)
    result = {"benchmark": "explanations", "data": args.label, "model": version, "users": len(users), "k": args.k,
              "seconds": round(seconds, 1), "python": platform.python_version(),
              "after": report.as_dict(), "before": before, "table": report.table()}
    print_and_record(result, args.out, args.label or "unlabelled")


if __name__ == "__main__":
    main()
