"""``kgrec explain``: why the active model recommends items to a user, as graph paths."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import TYPE_CHECKING

from kgrec.config import open_driver
from kgrec.serving import library
from kgrec.serving.phrasing.backends import PhrasingUnavailable
from kgrec.serving.phrasing.phraser import Phraser

if TYPE_CHECKING:
    from kgrec.settings import Settings


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    connection = settings.neo4j
    if args.store:
        with open_driver(connection) as driver:
            written = library.store_explanations(driver, connection.database, paths=args.paths)
        print(f"stored the best {args.paths} explanation paths on {written:,} recommendations of the active model")
        return 0
    phraser = _phraser(settings) if args.phrase else None
    try:
        rows = _explained_rows(args, settings, phraser)
    finally:
        if phraser:
            phraser.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"No recommendations from the active model for user {args.user!r} (train first, or the user is new).")
    for row in rows:
        rank = f"#{row['rank']}" if row["rank"] else "not in the user's top-K"
        print(f"{row.get('title') or row['item_id']} ({rank})")
        if not row["explanations"]:
            print("    no explanation path within 4 hops")
        for path in row["explanations"]:
            print(f"    [{_weight_label(path)}] {path['phrase'] if path['phrasing'] == 'llm' else path['sentence']}")
            if path["phrasing"] == "template":
                print(f"        (template: {path['phrasing_note']})")
    shapes = Counter(p["shape"] for row in rows for p in row["explanations"])
    if shapes:
        print("shapes: " + ", ".join(f"{shape} {n}" for shape, n in shapes.most_common()))
    return 0


def _explained_rows(args: argparse.Namespace, settings: Settings, phraser: Phraser | None) -> list[dict]:
    """The user's top-K (or ``--item``) with their paths, phrased when ``phraser`` is given."""
    connection = settings.neo4j
    with open_driver(connection) as driver:
        if args.item:
            recs = [library.recommendation_for(driver, connection.database, args.user, args.item)]
            paths = library.explanation_paths(driver, connection.database, args.user, args.item, limit=args.paths)
            if phraser:
                phraser.phrase(paths)
            title = recs[0].title if recs[0] else paths[0].nodes[-1].name if paths else None
            rows = [{"item_id": args.item, "title": title, "rank": recs[0].rank if recs[0] else None,
                     "explanations": [p.model_dump() for p in paths]}]
        else:
            found = library.recommendations(driver, connection.database, args.user, k=args.k, paths=args.paths)
            if phraser and phraser.phrase([p for r in found for p in r.explanations or []]):
                library.store_phrases(driver, connection.database, args.user, found)
            rows = [{"item_id": r.item_id, "title": r.title, "rank": r.rank, "score": r.score,
                     "explanations": [p.model_dump() for p in r.explanations or []]} for r in found]
    return rows


def _phraser(settings: Settings) -> Phraser:
    """The settings' language model, or the error that says how to get one."""
    phraser = Phraser.from_settings(settings)
    if phraser.backend is None:
        raise PhrasingUnavailable(phraser.unavailable or "no language model")
    return phraser


def _weight_label(path: dict) -> str:
    """The weight and what it is: the exact part of the score the path's channel carries (and its
    share of the score), or the first-order estimate."""
    if path.get("source") != "model_contribution":
        return f"{path['weight']:.4f} estimate"
    share = f", {path['share']:.0%} of the score" if path.get("share") is not None else ""
    return f"{path['weight']:.4f} {path.get('channel', 'collaborative')}{share}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="explain recommendations as paths in the graph",
        description="Show why the active model recommends items: per piece of evidence (an item the user "
                    "interacted with, ranked by its contribution to the score as the model stored it on the "
                    "RECOMMENDED edge, else by a first-order estimate), the graph path of the channel that "
                    "carries its weight (people who interacted with both items, or a shared genre / creator / "
                    "tag), labelled with that channel's exact part and its share of the score; for a user's "
                    "top-K recommendations, or for one user-item pair. Shows other users on co-interaction "
                    "paths (the database owner's view; the HTTP API shows only their count).")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="user id")
    parser.add_argument("--item", help="explain this item (also when it is not in the user's top-K)")
    parser.add_argument("--k", type=int, default=5, help="recommendations to explain (default %(default)s)")
    parser.add_argument("--paths", type=int, default=3,
                        help="evidence items explained per item (default %(default)s); an evidence item whose "
                             "second channel carries a quarter of its weight gets a second path")
    parser.add_argument("--phrase", action="store_true",
                        help="phrase each path with a language model (KGREC_LLM_URL, else the bundled one of "
                             "the llm extra) and show its sentence when the verifier finds every name and number "
                             "in it on the path, else the template with the reason; phrases of the user's top-K "
                             "are kept on their RECOMMENDED edges")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    target.add_argument("--store", action="store_true",
                        help="compute the best --paths paths of every recommendation of the active model and "
                             "keep them on the RECOMMENDED edges (served by the API without recomputation)")
    parser.set_defaults(func=_explain)
