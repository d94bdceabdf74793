"""Write ``bench/RESULTS.md`` and the README's result blocks from ``bench/results/*.json``.

The JSON files are the only source of every measured number; this script is the only thing
that turns them into prose tables, so a number in RESULTS.md or in one of the README's blocks
(quality, explanations) cannot disagree with the run that produced it. Its output depends on the JSON alone (no date,
no machine), so ``tests/test_results_report.py`` can regenerate it and fail when the committed
files are stale.

    python bench/results_report.py            # rewrite bench/RESULTS.md and README's result blocks
    python bench/results_report.py --check    # exit 1 when either is stale

Each results file has a renderer of its own, chosen by its name or by its shape. A renderer
reads the keys it knows with ``.get``; a file no renderer knows, or whose shape has changed
under its renderer, is shown key by key, so a new benchmark appears without touching this script.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS_DIR = BENCH / "results"
RESULTS_MD = BENCH / "RESULTS.md"
README = BENCH.parent / "README.md"
REGENERATE = "python bench/results_report.py"
#: the README's generated blocks: name -> the results file it shows
README_BLOCKS = {"quality": "quality.json", "explanations": "explanations.json", "embeddings": "embeddings.json",
                 "phrasing": ("phrasing.json", "phrasing_sample.json"), "catalogue": "train.json"}

Lines = list[str]

METHOD_NAMES = {
    "attention": "**attention (kgrec)**",
    "ease_recency": "EASE + recency-weighted history",
    "ease": "EASE",
    "item_knn": "item-kNN",
    "popularity": "popularity",
    "sasrec": "SASRec",
    "lightgcn": "LightGCN",
    "kgat": "KGAT",
}
QUALITY_METRICS = ("ndcg@20", "recall@20", "hit_rate@20", "coverage@20", "diversity@20", "novelty@20")
#: the published model's default rank (``dim``), the one the README quotes
PUBLISHED_RANK = 256
SEGMENTS = {"cold_items": "cold items", "short_history": "short histories", "long_history": "long histories"}


# --- formatting -------------------------------------------------------------------------------

def number(value: Any) -> str:
    """One cell: integers with thousands separators, floats to four significant digits (one decimal
    from 100 on)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == int(value):
            return f"{int(value):,}"
        if abs(value) < 100:
            return f"{value:.4g}"
        return f"{value:,.1f}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if len(value) > 10:
            return f"{number(min(value))}–{number(max(value))} ({len(value)} values)"
        return ", ".join(number(v) for v in value)
    if value is None:
        return "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> Lines:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(row) + " |" for row in rows] + [""]


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf) pairs; a list of numbers is one leaf, a list of records is labelled by
    each record's ``name`` or ``query`` when it has one, else by its position. A list under the
    key ``runs`` is only counted: the benchmarks record the single runs beside the medians that
    summarise them."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        if path.rsplit(".", 1)[-1] == "runs":
            yield path, f"{len(value)} runs"
            return
        labels = [v.get("name") or v.get("query") if isinstance(v, dict) else None for v in value]
        for index, (label, inner) in enumerate(zip(labels, value)):
            if label:
                inner = {k: v for k, v in inner.items() if k not in ("name", "query")}
            yield from flatten(inner, f"{path}[{label or index}]")
    else:
        yield path, value


# --- renderers: each takes a file's JSON and returns its section's lines ------------------------

def render_generic(data: Any) -> Lines:
    """Every leaf, key by key; the runs of a file (its top-level entries) side by side when they
    have the same keys, at most four to a table."""
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return table(["measure", "value"], [[key or "value", number(v)] for key, v in flatten(data)])
    groups: list[list[str]] = []
    for name, run in data.items():
        if groups and set(run) == set(data[groups[-1][0]]) and len(groups[-1]) < 4:
            groups[-1].append(name)
        else:
            groups.append([name])
    lines: Lines = []
    for group in groups:
        flat = {name: dict(flatten(data[name])) for name in group}
        keys = list(dict.fromkeys(key for name in group for key in flat[name]))
        lines += table(["measure"] + [f"`{name}`" for name in group],
                       [[key] + [number(flat[name].get(key)) for name in group] for key in keys])
    return lines


def _mean_cell(values: dict, metric: str) -> str:
    entry = values.get(metric)
    if not isinstance(entry, dict) or "mean" not in entry:
        return "—"
    runs = entry.get("runs") or []
    if metric == "seconds":
        return f"{entry['mean']:.0f}"
    if metric.startswith("novelty"):
        return f"{entry['mean']:.2f}"
    if len(set(runs)) > 1:
        return f"{entry['mean']:.4f} ± {entry['std']:.4f}"
    return f"{entry['mean']:.4f}"


def _method_label(method: str, values: dict, report_seeds: list) -> str:
    label = METHOD_NAMES.get(method, method)
    seeds = values.get("seeds", report_seeds)
    if seeds != report_seeds and seeds:
        label += f" (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} only)"
    return label


def quality_tables(data: dict, segments: bool) -> Lines:
    """bench/bench_quality.py's summary: per dataset, the measures of every method (mean ± std
    over the seeds where the runs differ), and its segments."""
    seeds = data.get("seeds", [])
    lines: Lines = []
    for dataset, summary in data["datasets"].items():
        lines += [f"*{dataset}* (NDCG@20 ... novelty@20, fit + evaluation seconds; seeds "
                  f"{', '.join(map(str, seeds))}):", ""]
        metrics = [m for m in QUALITY_METRICS if any(m in v for v in summary.values())]
        rows = [[_method_label(method, values, seeds)] + [_mean_cell(values, m) for m in metrics + ["seconds"]]
                for method, values in summary.items()]
        lines += table(["method"] + metrics + ["fit + eval s"], rows)
        if not segments:
            continue
        present = [s for s in SEGMENTS if any(f"{s}:ndcg@20" in v for v in summary.values())]
        if not present:
            continue
        first = next(v for v in summary.values() if f"{present[0]}:ndcg@20" in v)
        heads = [f"{SEGMENTS[s]} ({number(first.get(f'{s}:users', {}).get('mean'))} users, "
                 f"{number(first.get(f'{s}:interactions', {}).get('mean'))} test interactions)" for s in present]
        rows = []
        for method, values in summary.items():
            cells = []
            for s in present:
                if not values.get(f"{s}:users", {}).get("mean"):
                    cells.append("— (no such user)")
                else:
                    cells.append(f"{_mean_cell(values, f'{s}:ndcg@20')} / {_mean_cell(values, f'{s}:recall@20')}")
            rows.append([_method_label(method, values, seeds)] + cells)
        lines += [f"Segments of *{dataset}*, NDCG@20 / Recall@20 (cold items: ≤ 5 interactions in "
                  "train + validation; short histories ≤ 20, long ≥ 200; each on its own test interactions):", ""]
        lines += table(["method"] + heads, rows)
    if data.get("note"):
        lines += [str(data["note"]), ""]
    return lines


def render_quality(data: dict) -> Lines:
    return quality_tables(data, segments=True)


def _share_not(counts: dict | None, kind: str) -> float | None:
    """The share of ``counts`` that is not ``kind`` (None without counts)."""
    if not counts:
        return None
    return 1 - counts.get(kind, 0) / sum(counts.values())


def render_explanations(data: dict) -> Lines:
    """kgrec eval --explanations on a trained model, beside the earlier rule's upper bound."""
    lines: Lines = []
    for dataset, run in data.items():
        after, before = run.get("after", {}), run.get("before", {})
        chosen, random = after.get("chosen", {}), after.get("random", {})
        rows = [
            ["channel fidelity of the top explanations (≥ 0.9)",
             f"≤ {number(before.get('channel_fidelity_upper_bound'))}", number(after.get("channel_fidelity"))],
            ["top explanations showing the evidence's largest channel", "", number(after.get("largest_channel_shown"))],
            ["top explanations through a genre/tag path", number(before.get("knowledge_graph_top_share")),
             number(_share_not(after.get("top_shapes"), "co_interaction"))],
            ["all explanations shown through a genre/tag path", "", number(after.get("knowledge_graph_share"))],
            ["knowledge term's median share of the top evidence", "", number(after.get("knowledge_share_median"))],
            ["mean score drop, chosen / random evidence (≥ 2×)", "",
             f"{number(chosen.get('mean_score_drop'))} / {number(random.get('mean_score_drop'))}"],
            ["chosen / random drop", "", f"{number(after.get('drop_ratio'))}×"],
            ["chosen drop > random drop, share of pairs", "", number(after.get("chosen_beats_random"))],
            [f"PN@{after.get('k', 'K')} / PS@{after.get('k', 'K')}, chosen (random)", "",
             f"{number(chosen.get('pn_at_k'))} ({number(random.get('pn_at_k'))}) / "
             f"{number(chosen.get('ps_at_k'))} ({number(random.get('ps_at_k'))})"],
            ["mean \\|measured drop − stored contribution\\|", "", number(after.get("contribution_gap"))],
            ["top explanations citing disliked evidence (≤ 1%)", "", number(after.get("disliked_top_share"))],
            ["repeated sentences per item (0)", "", number(after.get("duplicates_per_item"))],
            ["distinct evidence items per user's top explanations", "", number(after.get("distinct_evidence_per_user"))],
            ["coverage", "", number(after.get("coverage"))],
        ]
        lines += [f"*{dataset}*: model `{run.get('model', '?')}`, {number(run.get('users'))} users, top-"
                  f"{number(run.get('k'))}, {number(after.get('recommendations'))} recommendations. *Before*: "
                  f"{before.get('rule', 'the earlier rule')}, replayed on the same evidence.", ""]
        lines += table(["measure (goal)", "before", "now"], rows)
        shapes = after.get("shapes")
        if isinstance(shapes, dict):
            lines += ["Shapes shown: " + ", ".join(f"{k} {number(v)}" for k, v in shapes.items()) + ".", ""]
    return lines


def render_knowledge_variants(data: dict) -> Lines:
    """One fit per knowledge-term variant, with the baselines on the same split."""
    lines = [f"{data.get('variant', '')}", "", f"Cold items: {data.get('cold_items', '')}.", ""]
    rows = []
    for method, run in data.get("methods", {}).items():
        params = run.get("params", {})
        rows.append([method] + [number(run.get(key)) for key in
                                ("ndcg@20", "recall@20", "cold_ndcg@20", "cold_recall@20", "cold_share_of_lists")]
                    + [number(params.get("val_ndcg@20")), number(run.get("seconds"))])
    lines += table(["method", "NDCG@20", "Recall@20", "cold NDCG@20", "cold Recall@20", "cold share of lists",
                    "validation NDCG@20", "seconds"], rows)
    if data.get("decision"):
        lines += [f"Decision: {data['decision']}", ""]
    return lines


def render_foldin(data: dict) -> Lines:
    """Hidden users folded in with the frozen model against the same users trained with it."""
    lines = [f"{data.get('dataset', '')}, method {data.get('method', '')}, seed {data.get('seed', '')}: "
             f"{number(data.get('hidden_users'))} hidden users ({number(data.get('hidden_test_interactions'))} "
             "test interactions).", ""]
    metrics = ("ndcg@20", "recall@20", "hit_rate@20", "coverage@20", "seconds")
    lines += table(["users scored"] + list(metrics),
                   [[name] + [number(run.get(m)) for m in metrics] for name, run in data.get("runs", {}).items()])
    lines += [f"NDCG@20 ratio folded-in / trained: {number(data.get('ndcg@20_ratio'))}; goal: "
              f"{data.get('goal', '')}; met: {number(data.get('goal_met'))}.", ""]
    return lines


def render_embeddings(data: dict) -> Lines:
    """The vector index's lists, asked through Cypher, against the model's own, per rank of the
    factorisation: one row per dataset and rank."""
    rows = []
    for dataset, run in data.items():
        for dim, r in run.get("ranks", {}).items():
            latency = r.get("p50_ms", {})
            rows.append([dataset, dim, number(r.get("users")), number(r.get("overlap@20")),
                         number(r.get("overlap@20_exact_inner_product")), number(r.get("model_ndcg@20")),
                         number(r.get("index_ndcg@20")), number(r.get("ndcg@20_ratio")),
                         number(r.get("similar_items_overlap@20")),
                         number(latency.get("embedding_recommendations")), number(latency.get("recommendations"))])
    lines = table(["data", "rank", "users", "overlap@20 with the model's list", "same, exact dot product",
                   "model NDCG@20", "index NDCG@20", "ratio", "similar items overlap@20 with the message's top",
                   "index p50 ms", "RECOMMENDED p50 ms"], rows)
    for dataset, run in data.items():
        reduction = run.get("reduction", {})
        if reduction:
            lines += [f"{dataset}, rank {number(reduction.get('rank'))}, {number(reduction.get('users'))} users, "
                      f"{reduction.get('measure', '')}: the published index (cosine over the embeddings) "
                      f"{number(reduction.get('published_index'))}; the maximum-inner-product reduction (one more "
                      f"coordinate equalising the item norms) {number(reduction.get('reduction_default_hnsw'))} "
                      f"with Neo4j's default index options, {number(reduction.get('reduction_published_hnsw'))} "
                      "with the published index's.", ""]
        lines += [f"{dataset}: goal {run.get('goal', '')}; met at ranks {number(run.get('goal_met_at'))}; "
                  f"held-out interactions {number(run.get('held_out_interactions'))}; training and publishing "
                  f"{number(run.get('train_and_publish_s'))} s; load average at the end "
                  f"{number(run.get('load_average_at_end'))}.", ""]
    return lines


def render_new_items(data: dict) -> Lines:
    """Items hidden from training, added from their links: ranked among the new items against a
    genre baseline and random; how long an item takes to its first recommendation."""
    lines: Lines = []
    for dataset, run in data.items():
        among = run.get("among_new_items", {})
        lines += [f"{dataset}: {number(run.get('added'))} of {number(run.get('hidden_items'))} hidden items added "
                  f"({number(run.get('not_recommendable'))} without a known link), {number(run.get('users'))} users, "
                  f"{number(run.get('test_interactions'))} held-out interactions with them.", ""]
        lines += table(["ranked among the new items", "Recall@20", "NDCG@20"],
                       [[name.replace("_", " "), number(m.get("recall@20")), number(m.get("ndcg@20"))]
                        for name, m in among.items()])
        timing = run.get("time_to_first_recommendation", {})
        lines += [f"Users with a new item in their full top-20: {number(run.get('users_with_a_new_item_in_full_top20'))}. "
                  f"Adding them all to the fitted model: {number(run.get('add_items_s'))} s."
                  + (f" From creation to first recommendation on the database (model {timing.get('model', '')}): "
                     + ", ".join(f"{step.replace('_', ' ')} {number(s)} s" for step, s in timing.get("seconds", {}).items())
                     + f"; in the top-20 of a user who liked the item it copies: "
                       f"{number(timing.get('in_the_top20_of_a_user_who_liked_the_twin'))}." if timing else ""), ""]
    return lines


def render_sparse_item_item(data: dict) -> Lines:
    """Each method dense and with its item-item weights solved on k partners per item."""
    lines: Lines = []
    for dataset, run in data.items():
        note = f" {run['note'][0].upper()}{run['note'][1:]}." if run.get("note") else ""
        lines += [f"{dataset}: {number(run.get('items'))} items, {number(run.get('threads'))} threads.{note}", ""]
        lines += table(["method", "partners per item", "NDCG@20", "vs dense", "Recall@20", "lambda", "fit s"],
                       [[method, number(m.get("neighbours")) if m.get("neighbours") else "all (dense)",
                         number(m.get("ndcg@20")), number(m.get("ndcg@20_vs_dense")), number(m.get("recall@20")),
                         number(m.get("lambda")), number(m.get("fit_seconds"))]
                        for method, m in run.get("methods", {}).items()])
    return lines


def hand_check(sample: dict) -> dict[str, int]:
    """The hand check's counts: phrases checked, faithful, fluent (unchecked ones not counted)."""
    checked = [p for p in sample.get("phrases", []) if p.get("faithful") is not None]
    return {"checked": len(checked), "faithful": sum(bool(p["faithful"]) for p in checked),
            "fluent": sum(bool(p.get("fluent")) for p in checked)}


def render_phrasing(data: dict) -> Lines:
    lines: Lines = []
    for dataset, run in data.items():
        speed = run["seconds_per_phrase"]
        again = run["top10_phrased_again_s"]
        lines += table([f"*{dataset}*, {run['model']}", "value"], [
            ["paths phrased (shapes)", f"{run['paths']} ({', '.join(f'{k} {v}' for k, v in run['shapes'].items())})"],
            ["accepted by the verifier", f"{run['accepted']} ({number(run['acceptance_rate'])})"],
            ["seconds per phrase: median / p90 / max", f"{speed['median']} / {speed['p90']} / {speed['max']}"],
            ["model load, seconds", number(run["load_s"])],
            [f"a top-10 again ({again['paths']} paths): warm cache / from the edges, seconds",
             f"{again['warm_cache']} / {again['from_edges_new_process']}"]])
        lines += ["Rejections: " + ", ".join(f"{reason} {n}" for reason, n in run["rejections"].items()), ""]
        for kind in ("accepted", "rejected"):
            lines += [f"{kind.capitalize()} examples:", ""]
            lines += [f"- {e['phrase']}" + (f" — *{e['reason']}*" if e["reason"] else "") for e in run["examples"][kind]]
            lines.append("")
    return lines


def render_phrasing_sample(data: dict) -> Lines:
    counts = hand_check(data)
    lines = [f"{counts['faithful']} of {counts['checked']} accepted phrases faithful, {counts['fluent']} fluent "
             f"({data.get('data')}, {data.get('model')}). Not faithful or not fluent:", ""]
    lines += [f"- {p['phrase']} (faithful {p['faithful']}, fluent {p['fluent']}: {p.get('note') or 'no note'})"
              for p in data.get("phrases", []) if p.get("faithful") is False or p.get("fluent") is False]
    return lines + [""]


def render_explain(data: dict) -> Lines:
    """The explanation query alone, for random (user, item) pairs."""
    keys = ("interactions", "paths", "queries", "pairs_with_a_path", "p50_ms", "p95_ms", "p99_ms", "max_ms")
    lines = table(list(keys), [[number(data.get(k)) for k in keys]])
    if data.get("note"):
        lines += [f"Note: {data['note']}", ""]
    return lines


def render_api(data: dict) -> Lines:
    """HTTP API latency per scenario, at the given concurrency."""
    rows, notes = [], []
    for setting, run in data.items():
        for scenario in run.get("scenarios", []):
            rows.append([setting, f"`{scenario.get('query', '')}`", number(scenario.get("concurrency")),
                         number(scenario.get("requests")), number(scenario.get("requests_per_s")),
                         number(scenario.get("p50_ms")), number(scenario.get("p95_ms")),
                         number(scenario.get("p99_ms")), number(scenario.get("errors"))])
        targets = run.get("targets", {})
        notes.append(f"`{setting}`: {run.get('note', '')} Target p50 ≤ {number(targets.get('p50_ms'))} ms, "
                     f"p99 ≤ {number(targets.get('p99_ms'))} ms.")
    return table(["setting", "query", "concurrency", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
                 rows) + notes + [""]


def render_live(data: dict) -> Lines:
    """POST one interaction, then GET the same user's list, which folds them in (the live path)."""
    rows, notes = [], []
    for name, run in data.items():
        for s in run.get("scenarios", []):
            rows.append([f"{number(run.get('interactions'))} interactions", number(s.get("concurrency")),
                         number(s.get("pairs")), number(s.get("pairs_per_s")), number(s.get("pair_p50_ms")),
                         number(s.get("pair_p95_ms")), number(s.get("pair_p99_ms")), number(s.get("post_p50_ms")),
                         number(s.get("get_p50_ms")), number(s.get("errors")), number(s.get("not_live_model_lists"))])
        goal = run.get("goal", {})
        notes.append(f"Goal: pair p50 ≤ {number(goal.get('pair_p50_ms'))} ms, p99 ≤ "
                     f"{number(goal.get('pair_p99_ms'))} ms ({goal.get('at', '')}). Loading the model "
                     f"with the first pair: {number(run.get('first_pair_with_model_load_ms'))} ms.")
    return table(["graph", "concurrency", "pairs", "pairs/s", "pair p50 ms", "p95", "p99", "POST p50",
                  "GET p50", "errors", "not live"], rows) + notes + [""]


def render_evidence_store(data: dict) -> Lines:
    """Writing the same RECOMMENDED lists with different code, alternating runs: one row per run
    and variant, every median the run recorded."""
    rows: list[tuple[str, str, dict]] = []
    for run_name, run in data.items():
        for variant, result in run.items():
            if isinstance(result, dict):
                rows.append((run_name, variant, {k: v for k, v in result.items() if k.startswith("median_")}))
    keys = list(dict.fromkeys(k for _, _, medians in rows for k in medians))
    return table(["run", "variant"] + [k.removeprefix("median_") for k in keys],
                 [[run, variant] + [number(medians.get(k)) for k in keys] for run, variant, medians in rows])


def render_bench_run(data: dict) -> Lines:
    """A whole ``make bench`` run: its steps and their seconds (each step's figures are in the
    step's own results file when it was kept)."""
    machine, versions = data.get("machine", {}), data.get("versions", {})
    lines = [f"Size {data.get('size')} ({number(data.get('interactions'))} interactions) on "
             f"{number(machine.get('cpus'))} cores; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    return lines + table(["step", "seconds", "status"],
                         [[name, number(step.get("seconds")),
                           "failed" if "failed" in step else step.get("skipped") or "ok"]
                          for name, step in data.get("steps", {}).items()])


# --- which renderer, in which order ------------------------------------------------------------

def is_quality_report(data: Any) -> bool:
    return isinstance(data, dict) and {"seeds", "methods", "datasets"} <= set(data)


def is_bench_run(data: Any) -> bool:
    return isinstance(data, dict) and {"size", "steps"} <= set(data)


#: (section title, file name or prefix, renderer, what the file measures); a prefix ends in "-"
SECTIONS: list[tuple[str, str, Callable[[Any], Lines], str]] = [
    ("Ranking quality", "quality.json", render_quality,
     "`bench/bench_quality.py`: `kgrec eval`'s protocol (per-user temporal hold-out, full ranking) over several seeds."),
    ("Ranking quality: other runs", "quality-", render_quality,
     "Single-purpose runs of `bench/bench_quality.py` kept beside the main one."),
    ("Explanations", "explanations.json", render_explanations,
     "`bench/bench_explanations.py`: `kgrec eval --explanations` on a trained model."),
    ("Knowledge-term variants", "knowledge_variants-", render_knowledge_variants,
     "Whether a popularity-damped knowledge term helps cold items."),
    ("Folding users in", "foldin-", render_foldin, "`bench/bench_foldin.py`."),
    ("Embeddings and the vector index", "embeddings.json", render_embeddings,
     "`bench/bench_embeddings.py`: `embedding_recommendations` and `similar_items` against the model's own "
     "lists, on a temporal hold-out."),
    ("Items created after training", "new_items.json", render_new_items,
     "`bench/bench_new_items.py`: items hidden from training, added from their knowledge links."),
    ("Phrased explanations", "phrasing.json", render_phrasing,
     "`bench/bench_phrasing.py`: paths phrased by the bundled language model, checked by the verifier."),
    ("Phrased explanations: hand check", "phrasing_sample.json", render_phrasing_sample,
     "A random sample of accepted phrases, each read and judged by hand against its facts."),
    ("Item-item weights on k partners per item", "sparse_item_item.json", render_sparse_item_item,
     "`bench/bench_sparse_item_item.py`: `kgrec eval`'s protocol, each method dense and with the neighbourhood solve."),
    ("Explanation query latency", "explain.json", render_explain, "`bench/bench_explain.py`."),
    ("HTTP API latency", "api.json", render_api, "`bench/bench_api.py`."),
    ("Live path latency", "live.json", render_live, "`bench/bench_live.py`."),
    ("Storing explanations", "explain_store.json", render_generic,
     "`bench/bench_explain_store.py`: `kgrec explain --store`, recommendations per second by users explained at a time."),
    ("Storing the evidence split", "evidence_store.json", render_evidence_store,
     "`bench/bench_evidence_store.py`: server and client CPU of the `RECOMMENDED` write."),
    ("Transactional load", "load.json", render_generic, "`bench/bench_load.py`: first load, re-load, readers."),
    ("Bulk load", "bulk.json", render_generic, "`bench/bench_bulk.py`: `kgrec load --bulk`, store size, pull."),
    ("Bulk load options", "bulk_options.json", render_generic,
     "What each option of the bulk first load is worth, one change at a time."),
    ("Pull and write-back alone", "engine_io.json", render_generic,
     "`bench/bench_engine.py --io-only`: random output of the trained shapes."),
    ("Engine with the earlier KGAT-style model", "engine.json", render_generic, "`bench/bench_engine.py`."),
    ("Training", "train.json", render_generic, "`bench/bench_train.py`: `kgrec train` phase by phase."),
]


def section_for(name: str, data: Any) -> tuple[str, Callable[[Any], Lines], str]:
    for title, pattern, renderer, about in SECTIONS:
        if name == pattern or (pattern.endswith("-") and name.startswith(pattern)):
            return title, renderer, about
    if is_quality_report(data):
        return "Ranking quality: other runs", render_quality, ""
    if is_bench_run(data):
        return "`make bench` runs", render_bench_run, "`bench/run_all.py`."
    return "Other results", render_generic, ""


def render_file(name: str, data: Any, renderer: Callable[[Any], Lines]) -> Lines:
    """A renderer whose file has another shape than it expects falls back to the key-by-key view,
    and says so, rather than drop the file's numbers."""
    try:
        return renderer(data)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        return [f"(shown key by key: this file's shape is not the one its renderer reads: "
                f"{type(error).__name__} {error})", ""] + render_generic(data)


def load_results(folder: Path = RESULTS_DIR) -> dict[str, Any]:
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def render_results(results: dict[str, Any]) -> str:
    order = [title for title, *_ in SECTIONS] + ["Ranking quality: other runs", "`make bench` runs", "Other results"]
    sections: dict[str, list[tuple[str, Lines, str]]] = {}
    for name, data in results.items():
        title, renderer, about = section_for(name, data)
        sections.setdefault(title, []).append((name, render_file(name, data, renderer), about))
    lines = ["# Measured results", "",
             f"Generated by `{REGENERATE}` from `bench/results/*.json`, the only source of these numbers: "
             "edit the JSON (or re-run the benchmark), never this file. Unless a table says otherwise, the runs "
             "were on a 2-core machine shared with other work, so read seconds as orders of magnitude.", ""]
    for title in dict.fromkeys(order):
        for name, body, about in sections.get(title, []):
            lines += [f"## {title}: `{name}`", ""] + ([about, ""] if about else []) + body
    return "\n".join(lines).rstrip("\n") + "\n"


def block_marks(name: str) -> tuple[str, str]:
    """The comments that open and close README block ``name``."""
    return f"<!-- results:{name} -->", f"<!-- /results:{name} -->"


def readme_quality(data: Any) -> Lines:
    return quality_tables(data, segments=False) if is_quality_report(data) else ["(no quality results)", ""]


def readme_explanations(data: Any) -> Lines:
    """The explanation goals, per dataset, before and now (every measure is in RESULTS.md)."""
    if not isinstance(data, dict):
        return ["(no explanation results)", ""]
    lines: Lines = []
    for dataset, run in data.items():
        after, before = run.get("after", {}), run.get("before", {})
        rows = [["channel fidelity (≥ 0.9)", f"≤ {number(before.get('channel_fidelity_upper_bound'))}",
                 number(after.get("channel_fidelity"))],
                ["top paths through a genre/tag", number(before.get("knowledge_graph_top_share")),
                 number(_share_not(after.get("top_shapes"), "co_interaction"))],
                ["largest channel shown / disliked evidence / repeats", "",
                 f"{number(after.get('largest_channel_shown'))} / {number(after.get('disliked_top_share'))} / "
                 f"{number(after.get('duplicates_per_item'))}"]]
        lines += table([f"*{dataset}*, {number(after.get('recommendations'))} recommendations", "before", "now"], rows)
    return lines


def readme_embeddings(data: Any) -> Lines:
    """The vector index's lists against the model's, per dataset, at the published rank."""
    if not isinstance(data, dict):
        return ["(no embedding results)", ""]
    lines: Lines = []
    for dataset, run in data.items():
        for rank, r in run.get("ranks", {}).items():
            if int(rank) == PUBLISHED_RANK:
                lines.append(f"On *{dataset}* (rank {rank}), the index's top-20 for a user shares "
                             f"{number(r.get('overlap@20'))} of the model's, with {number(r.get('ndcg@20_ratio'))} "
                             f"of its NDCG@20 on held-out interactions; `similar_items` shares "
                             f"{number(r.get('similar_items_overlap@20'))} with the 20 items the message weighs most.")
    return lines + [""] if lines else ["(no embedding results at the published rank)", ""]


def readme_catalogue(data: Any) -> Lines:
    """``kgrec train`` against the catalogue size: the runs that record which item-item solve they
    took, largest catalogue last."""
    runs = sorted((run for run in (data or {}).values() if isinstance(run, dict) and run.get("item_item_solve")),
                  key=lambda run: run.get("items", 0))
    if not runs:
        return ["(no training runs with the item-item solve recorded)", ""]
    rows = [[number(run.get("items")), number(run.get("interactions_requested")), str(run.get("item_item_solve")),
             number(run.get("dense_item_item_weights_mb")), number(run.get("seconds", {}).get("train")),
             number(run.get("total_seconds")), number(run.get("peak_rss_mb")),
             number(run.get("checkpoint", {}).get("mb")), number(run.get("checkpoint", {}).get("load_seconds")),
             number(run.get("val_ndcg@20"))] for run in runs]
    return table(["items", "interactions", "B solved", "dense B would be (MB)", "fit (s)", "train to active model (s)",
                  "peak RSS (MB)", "checkpoint (MB)", "API load (s)", "val NDCG@20"], rows)


def readme_phrasing(run_data: Any, sample: Any) -> Lines:
    """Acceptance, the hand check and the speed of phrasing, per dataset."""
    if not isinstance(run_data, dict):
        return ["(no phrasing results)", ""]
    counts = hand_check(sample) if isinstance(sample, dict) else {"checked": 0}
    lines: Lines = []
    checked_data = sample.get("data") if isinstance(sample, dict) else None
    for dataset, run in run_data.items():
        if checked_data and dataset != checked_data:  # the README shows the hand-checked run; RESULTS.md all
            continue
        speed = run["seconds_per_phrase"]
        checked = (f"; by hand, {counts['faithful']} of {counts['checked']} accepted phrases are faithful and "
                   f"{counts['fluent']} fluent" if counts["checked"] else "")
        lines.append(f"On *{dataset}*, the verifier accepted {run['accepted']} of {run['paths']} phrases of the bundled "
                     f"model ({number(run['acceptance_rate'])}){checked}. A phrase takes {speed['median']} s "
                     f"(median, 2 cores) after a {number(run['load_s'])} s load; a top-10 asked again reads its "
                     f"phrases from the cache or the edges in "
                     f"{run['top10_phrased_again_s']['from_edges_new_process']} s.")
        accepted, rejected = run["examples"]["accepted"][:1], run["examples"]["rejected"][:1]
        lines += [""] + [f"- accepted: “{e['phrase']}”" for e in accepted]
        lines += [f"- rejected: “{e['phrase']}” ({e['reason']})" for e in rejected]
    return lines + [""]


README_RENDERERS: dict[str, Callable[..., Lines]] = {"quality": readme_quality, "explanations": readme_explanations,
                                                     "embeddings": readme_embeddings, "phrasing": readme_phrasing,
                                                     "catalogue": readme_catalogue}


def with_readme_blocks(readme: str, results: dict[str, Any]) -> str:
    """``readme`` with every block of :data:`README_BLOCKS` rendered anew from ``results``."""
    for name, source in README_BLOCKS.items():
        begin, end = block_marks(name)
        start, stop = readme.find(begin), readme.find(end)
        if start < 0 or stop < start:
            raise SystemExit(f"README.md has no {begin} ... {end} block to fill")
        sources = source if isinstance(source, tuple) else (source,)
        body = README_RENDERERS[name](*(results.get(s) for s in sources))
        files = " and ".join(f"bench/results/{s}" for s in sources)
        block = "\n".join([begin, f"<!-- generated by `{REGENERATE}` from {files} -->", ""] + body + [end])
        readme = readme[:start] + block + readme[stop + len(end):]
    return readme


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when RESULTS.md or the README is stale")
    args = parser.parse_args()
    results = load_results()
    wanted = {RESULTS_MD: render_results(results), README: with_readme_blocks(README.read_text(), results)}
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(BENCH.parent)} is stale: run `{REGENERATE}`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(BENCH.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
