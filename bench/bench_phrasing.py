"""Explanations phrased by the bundled language model, verified against their paths: how many
the verifier accepts, why it rejects the others, how long a phrase takes, and a sample of
accepted phrases for a person to check (JSON on stdout).

Run it on a real graph trained by ``kgrec train``, with the llm extra installed:

    kgrec load movielens ~/.cache/kgrec-data/ml-latest-small && kgrec train
    python bench/bench_phrasing.py --paths 200 --label ml-latest-small --out bench/results/phrasing.json \\
        --sample-out bench/results/phrasing_sample.json

The paths are those ``kgrec explain`` shows (the best two evidence items of each of a sampled
user's top-10), taken user by user until ``--paths``. ``--sample-out`` writes ``--sample``
accepted phrases drawn at random, each with its facts and template sentence and an empty
verdict; the hand check fills the verdicts in (``faithful``: every statement is a fact of the
path; ``fluent``: reads as one natural sentence), and this benchmark never overwrites them.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from kgrec.config import open_driver
from kgrec.engine.evaluation.faithfulness import sample_users
from kgrec.serving import library
from kgrec.serving.phrasing.backends import BundledModel, backend_from_settings
from kgrec.serving.phrasing.facts import PathFacts
from kgrec.serving.phrasing.phraser import Phraser
from kgrec.settings import read_settings
from recording import print_and_record


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=200, help="explanation paths phrased (default %(default)s)")
    parser.add_argument("--k", type=int, default=10, help="recommendations per user (default %(default)s)")
    parser.add_argument("--per-item", type=int, default=2, help="evidence items per recommendation (default %(default)s)")
    parser.add_argument("--sample", type=int, default=50, help="accepted phrases for the hand check (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="what the database holds, e.g. ml-latest-small")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--sample-out", type=Path, help="write the hand-check sample here (kept if it exists)")
    args = parser.parse_args()

    settings = read_settings()
    connection = settings.neo4j
    backend = backend_from_settings(settings)
    with open_driver(connection) as driver:
        started = time.monotonic()
        if isinstance(backend, BundledModel):  # timed apart from the phrases
            backend.load()
        load_s = time.monotonic() - started
        phraser = Phraser(backend)
        paths, per_phrase, lists = [], [], []
        for user in sample_users(driver, connection.database, 10 * args.paths, args.seed):
            recs = library.recommendations(driver, connection.database, user, k=args.k, paths=args.per_item)
            found = [p for rec in recs for p in rec.explanations or []]
            for path in found[: args.paths - len(paths)]:
                began = time.monotonic()
                phraser.phrase([path])
                per_phrase.append(time.monotonic() - began)
                paths.append(path)
            lists.append((user, recs))
            if len(paths) >= args.paths:
                break
        # a top-10 asked again: phrases from the cache (the API's memory), then from the edges (a new process)
        user, recs = lists[0]
        phraser.phrase([p for rec in recs for p in rec.explanations or []])
        library.store_phrases(driver, connection.database, user, recs)
        again = library.recommendations(driver, connection.database, user, k=args.k, paths=args.per_item)
        began = time.monotonic()
        phraser.phrase([p for rec in again for p in rec.explanations or []])
        warm_cache_s = time.monotonic() - began
        fresh = Phraser(backend)
        began = time.monotonic()
        stored = library.recommendations(driver, connection.database, user, k=args.k, paths=args.per_item)
        fresh.phrase([p for rec in stored for p in rec.explanations or []], budget_s=0.0)
        from_edges_s = time.monotonic() - began
        from_edges = [p.phrasing for rec in stored for p in rec.explanations or []]
        phraser.close()
        fresh.close()

    accepted = [p for p in paths if p.phrasing == "llm"]
    # by kind: the reason without what it quotes ("says the user 'gave X 5': ..." -> "says the user")
    reasons = Counter(re.sub(r"\d+", "N", p.phrasing_note.removeprefix("the model's phrase was rejected: "))
                      .split(" '")[0].split(":")[0] for p in paths if p.phrasing != "llm")
    examples = {"accepted": [], "rejected": []}
    for path in paths:
        outcome = phraser.outcome(path)
        kind = "accepted" if outcome.accepted else "rejected"
        if len(examples[kind]) < 8:
            examples[kind].append({"template": path.sentence, "phrase": outcome.text, "reason": outcome.reason})
    result = {
        "benchmark": "phrasing", "data": args.label, "model": backend.name, "python": platform.python_version(),
        "paths": len(paths), "shapes": dict(Counter(p.shape for p in paths)),
        "accepted": len(accepted), "acceptance_rate": round(len(accepted) / len(paths), 3),
        "acceptance_by_shape": {shape: round(sum(p.phrasing == "llm" for p in paths if p.shape == shape)
                                             / n, 3) for shape, n in Counter(p.shape for p in paths).items()},
        "rejections": dict(reasons.most_common()),
        "load_s": round(load_s, 1),
        "seconds_per_phrase": {"median": round(statistics.median(per_phrase), 2),
                               "p90": round(_percentile(per_phrase, 0.9), 2), "max": round(max(per_phrase), 2)},
        "top10_phrased_again_s": {"warm_cache": round(warm_cache_s, 4), "from_edges_new_process": round(from_edges_s, 4),
                                  "paths": len(from_edges), "from_edges_llm": from_edges.count("llm")},
        "examples": examples,
    }
    print_and_record(result, args.out, args.label or "unlabelled")
    if args.sample_out and not args.sample_out.exists():
        chosen = random.Random(args.seed).sample(accepted, min(args.sample, len(accepted)))
        sample = [{"facts": PathFacts.of(p).lines(), "template": p.sentence, "phrase": p.phrase,
                   "faithful": None, "fluent": None, "note": ""} for p in chosen]
        args.sample_out.write_text(json.dumps({"data": args.label, "model": backend.name, "phrases": sample},
                                              indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
