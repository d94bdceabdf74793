"""``kgrec demo``: the end-to-end walk-through on the bundled sample (the README's main command).

Stages, each with a progress line and its time: start the local Neo4j; generate and load the
seeded sample; train the attention model and write embeddings, attention and recommendations
back (skipped when the active model was trained on exactly this graph); evaluate it against the
baselines on a temporal split (cached per graph, so a second run is fast); then show three
users' recommendations with the best explanation of each, the eval table, and how to look at
the same thing in Neo4j Browser and through the API; and an item created after training going
live from its knowledge links (as `kgrec items add` does). The server is left running.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from kgrec import cypher
from kgrec.neo4j_server import lifecycle
from kgrec.neo4j_server.layout import ServerLayout

if TYPE_CHECKING:
    import neo4j

    from kgrec.settings import Settings

#: the demo's sample: big enough for the model to learn the planted structure, small enough
#: to train in about a minute on two cores
DEMO_INTERACTIONS = 20_000
DEMO_SEED = 0
#: the item the demo creates after training
NEW_ITEM = "demo-new-item"


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Print one progress line per stage, with its time."""
    print(f"==> {name} ...", flush=True)
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def eval_cache_key(columns, config, methods: Sequence[str], ks: Sequence[int]) -> str:
    """A hash of everything the eval table depends on: every field of the run's config, the
    methods and the options each is evaluated with (their defaults: a changed default changes
    the result as much as a changed seed), the cut-offs, and the graph's content (node sets,
    relationships and their attributes: new interactions between known nodes change the split
    without changing the node sets)."""
    import numpy as np  # here, not at the top: `kgrec --help` imports this module

    from kgrec.engine.models.base import model_class

    options = {method: dataclasses.asdict(model_class(method).options_class()) for method in methods}
    digest = hashlib.sha256(json.dumps({"config": dataclasses.asdict(config), "methods": list(methods),
                                        "options": options, "ks": list(ks)}, sort_keys=True, default=str).encode())
    digest.update(columns.fingerprint().encode())
    for key in sorted(columns.edges):
        digest.update("\x1f".join(key).encode())
        for array in columns.edges[key]:
            digest.update(np.ascontiguousarray(array).tobytes())
        for name, values in sorted(columns.edge_attrs.get(key, {}).items()):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:24]


def _eval_table(columns, config, cache_dir: Path, ks: Sequence[int] = (10, 20)) -> str:
    """The eval table against the baselines, cached by :func:`eval_cache_key`."""
    from kgrec.engine.evaluation.evaluate import format_table, run_evaluation
    from kgrec.engine.models import EVALUATED as METHODS

    cache = cache_dir / f"eval-{eval_cache_key(columns, config, METHODS, ks)}.json"
    if cache.exists():
        results = json.loads(cache.read_text())
        print(f"    (cached: {cache})")
    else:
        # one progress line per method (kgrec.engine.evaluation), not one per epoch of each model
        quiet = [logging.getLogger(name) for name in ("kgrec.engine.training", "kgrec.engine.models")]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.WARNING)
        try:
            results = run_evaluation(columns, config, ks=tuple(ks), methods=METHODS)
        finally:
            for logger, level in zip(quiet, levels):
                logger.setLevel(level)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(results, indent=2))
    return format_table(results, tuple(ks))


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    import torch

    from kgrec.config import open_driver
    from kgrec.engine.neo4j.pull import pull_graph
    from kgrec.engine.pipeline import train_and_publish
    from kgrec.engine.training.config import TrainConfig
    from kgrec.loaders import write_graph
    from kgrec.loaders.synthetic import generate_sample
    from kgrec.serving import library

    torch.set_num_threads(args.threads)
    layout = settings.layout
    with stage("Starting the local Neo4j server"):
        lifecycle.start(layout, settings=settings)
    database = settings.neo4j.database
    config = TrainConfig(seed=DEMO_SEED)
    with open_driver(settings.neo4j) as driver:
        with stage(f"Generating and loading the sample ({args.size:,} interactions, seed {DEMO_SEED})"):
            summary = write_graph(driver, generate_sample(n_interactions=args.size, seed=DEMO_SEED),
                                  database=database, progress=False)
            changed = sum(t.created + t.updated for t in summary.types)
            print(f"    {changed:,} nodes/relationships created or updated"
                  + (" (the graph was already loaded)" if changed == 0 else ""))
        model = library.active_model(driver, database)
        if model is None or changed or args.retrain:
            with stage("Training the attention model and writing it back"):
                train_and_publish(driver, database, config, progress=True, model_dir=settings.models_dir)
            with stage("Storing the explanations of every recommendation (3 evidence items, each through its largest channel)"):
                print(f"    {library.store_explanations(driver, database, paths=3, progress=False):,} recommendations")
            model = library.active_model(driver, database)
        else:
            print(f"==> Reusing the active model {model.version} (trained on this graph; --retrain to train again)")
        with stage("Evaluating against the baselines (temporal hold-out, full ranking)"):
            columns, _ = pull_graph(driver, database)
            table = _eval_table(columns, config, layout.home / "demo")

        users = _sample_users(driver, database, model.version)
        print("\n=== Recommendations with their best explanation (the channel that carries its weight) ===")
        for user in users:
            print(f"\nUser {user}:")
            for rec in library.recommendations(driver, database, user, k=5, paths=1):
                print(f"  {rec.rank}. {rec.title}  [score {rec.score:.3f}]")
                for path in rec.explanations or []:
                    share = f"  [{path.channel}: {path.share:.0%} of the score]" if path.share is not None else ""
                    print(f"       {path.sentence}{share}")
                if not rec.explanations:
                    print("       (no path within 4 hops)")
        _show_phrased_explanations(driver, database, settings, users[0])
        _show_a_new_item_going_live(driver, database, settings.models_dir)
    print(f"\n=== Offline evaluation (model {model.version}; NDCG/Recall/HitRate/coverage) ===\n{table}")
    print(_how_to_look(layout, users[0]))
    return 0


def _show_phrased_explanations(driver: neo4j.Driver, database: str, settings: Settings, user: str) -> None:
    """A language model phrases one user's explanations (the bundled one, or KGREC_LLM_URL's), and
    each phrase is shown only if the verifier finds every name and number in it on its path."""
    from kgrec.serving import library
    from kgrec.serving.phrasing.phraser import Phraser

    print(f"\n=== The same explanations phrased by a language model, each checked against its path (user {user}) ===")
    phraser = Phraser.from_settings(settings)
    if phraser.backend is None:
        print(f"  {phraser.unavailable}")
        return
    recs = library.recommendations(driver, database, user, k=3, paths=1)
    try:
        started = time.monotonic()
        fresh = phraser.phrase([p for rec in recs for p in rec.explanations or []])
        if fresh:
            library.store_phrases(driver, database, user, recs)
    finally:
        phraser.close()
    kept = "kept on the RECOMMENDED edges for the next time" if fresh else "read from the RECOMMENDED edges"
    print(f"  {phraser.name}, {time.monotonic() - started:.0f} s ({kept})")
    for rec in recs:
        for path in rec.explanations or []:
            if path.phrasing == "llm":
                print(f"  {rec.rank}. {path.phrase}")
            else:
                print(f"  {rec.rank}. {path.sentence}\n       (template: {path.phrasing_note})")


def _show_a_new_item_going_live(driver: neo4j.Driver, database: str, models_dir: Path) -> None:
    """An item created after training goes live from its links, without retraining: a sequel
    of a rated item, linked to the same entities, is added to the active model as `kgrec items
    add` does, and a new user who rated the original gets it, carried by a shared entity."""
    from kgrec.engine.fold_in import fold_in
    from kgrec.engine.neo4j.new_items import catch_up, go_live
    from kgrec.engine.neo4j.persist import load_frozen
    from kgrec.serving import library

    print("\n=== A new item goes live from its knowledge links (no retraining) ===")
    created = driver.execute_query(cypher.load("demo_new_item"), item_id=NEW_ITEM, database_=database).records[0]
    print(f"  Created {NEW_ITEM!r} ({created['twin_title']} II) with the {created['links']} links of "
          f"{created['twin_title']!r}, after training; then, as `kgrec items add {NEW_ITEM}` does:")
    active = library.active_model(driver, database)
    frozen = load_frozen(Path(active.checkpoint), models_dir)
    catch_up(driver, database, frozen)
    added = go_live(driver, database, frozen, [NEW_ITEM])
    if NEW_ITEM not in frozen.index:
        print(f"  not recommendable: {added.not_recommendable.get(NEW_ITEM)}")
        return
    print(f"  {NEW_ITEM}: recommendable by model {frozen.version}"
          + ("; embedding written" if NEW_ITEM in added.item_ids else " (added by an earlier run)"))
    live = fold_in(frozen, [{"item_id": created["twin_id"], "rating": 5.0, "ts": None}], k=5)
    if live is None or NEW_ITEM not in live.items:
        print(f"  (not in the top-5 of a new user who rated {created['twin_title']!r} 5★)")
        return
    rank = live.items.index(NEW_ITEM)
    relation, _, entity = (live.channels[rank]["evidence_links"] or [""])[0].partition(":")
    print(f"  A new user who rated {created['twin_title']!r} 5★ gets it at #{rank + 1} of 5 (score "
          f"{live.scores[rank]:.3f})" + (f", carried by the shared {relation} link to {entity!r}" if entity else ""))


def _sample_users(driver: neo4j.Driver, database: str, version: str, n: int = 3) -> list[str]:
    """Three users with recommendations from model ``version``, picked deterministically (the
    most active ones)."""
    records, _, _ = driver.execute_query(cypher.load("demo_users"), version=version, n=n, database_=database)
    return [r["id"] for r in records]


def _how_to_look(layout: ServerLayout, user: str) -> str:
    style = resources.files("kgrec") / "browser" / "kgrec.grass"
    query = cypher.path("explain")
    return f"""
=== See it in Neo4j Browser ===
  Open {layout.browser_url}  (user neo4j, password in {layout.password_file})
  1. Style: type `:style`, then paste the contents of {style}
  2. Parameters:
       :param user_id => '{user}'
       :param item_ids => []
       :param k => 5
       :param paths => 1
       :param draw => true
  3. Paste {query}  -> the user, the top-5 items and the path that explains each.
     Or, for one item:  :param item_ids => ['<an item id>']  and run it again.

=== The HTTP API ===
  KGREC_API_KEY=change-me .venv/bin/kgrec serve --port 8000
  curl 'http://127.0.0.1:8000/v1/users/{user}/recommendations?k=5&explain=true&paths=1'
  OpenAPI docs: http://127.0.0.1:8000/docs

The Neo4j server keeps running; stop it with: .venv/bin/kgrec neo4j stop"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the end-to-end demo on the bundled sample data",
                                   description=__doc__.split("\n\n")[1] if __doc__ else None)
    parser.add_argument("--size", type=int, default=DEMO_INTERACTIONS,
                        help="interactions in the sample (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default %(default)s)")
    parser.add_argument("--retrain", action="store_true", help="train even if the active model fits the graph")
    parser.set_defaults(func=run_demo)
