"""Do the explanations say what the model actually used? Coverage, deletion test, PN@K, PS@K.

For each recommended (user, item) the best explanation path is tested against a randomly chosen
valid path (the control), with the trained model frozen (nothing is retrained):

- **coverage**: share of recommended items with at least one valid path;
- **deletion**: remove the path's evidence, the user's interaction with the path's first item,
  recompute the item's score and record the drop;
- **PN@K** (probability of necessity, after CountER, Tan et al. CIKM 2021): share of
  explanations whose deletion pushes the item out of the user's top-K;
- **PS@K** (probability of sufficiency): keep only the path's evidence (drop the user's other
  interactions) and check that the item is still in the top-K.

The top-K is always taken over the items the user had not interacted with before the edit, so
an edit changes the scores, never the candidate set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import neo4j
import numpy as np

from kgrec import cypher
from kgrec.cypher import library


class FrozenScorer(Protocol):
    """A trained model that scores every item for a user from an (edited) interaction history."""

    item_ids: Sequence[str]

    def score_items(self, user_id: str, history: Sequence[str]) -> np.ndarray:
        """Scores aligned with ``item_ids`` for ``user_id`` had they interacted with ``history`` only."""


class HistoryScorer:
    """:class:`FrozenScorer` over a fitted recommender (such as
    :func:`kgrec.engine.persist.load_active`'s) and the graph it scores: an edited history keeps
    each remaining interaction's place in the user's timeline and its rating."""

    def __init__(self, model, columns):
        from kgrec.engine.histories import histories_from_columns

        self._model = model
        self.item_ids = list(columns.node_ids["Item"])
        self._items = {item: i for i, item in enumerate(self.item_ids)}
        self._users = {user: i for i, user in enumerate(columns.node_ids["User"])}
        self._histories = histories_from_columns(columns)

    def score_items(self, user_id: str, history: Sequence[str]) -> np.ndarray:
        row = self._users[user_id]
        keep = np.array([self._items[i] for i in history if i in self._items], dtype=np.int64)
        scores = self._model.score(self._histories.only(row, keep))[0]
        return scores.detach().cpu().numpy()


@dataclass
class _Tally:
    drops: list[float] = field(default_factory=list)
    left_top_k: int = 0
    stayed_with_evidence_only: int = 0

    def summary(self) -> dict[str, float]:
        n = len(self.drops)
        return {"mean_score_drop": float(np.mean(self.drops)) if n else 0.0,
                "pn_at_k": self.left_top_k / n if n else 0.0,
                "ps_at_k": self.stayed_with_evidence_only / n if n else 0.0}


@dataclass
class FaithfulnessReport:
    k: int
    users: int
    recommendations: int
    explained: int
    chosen: dict[str, float]
    random: dict[str, float]
    chosen_beats_random: float

    @property
    def coverage(self) -> float:
        return self.explained / self.recommendations if self.recommendations else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "coverage": self.coverage}

    def table(self) -> str:
        """The report as a plain-text table: chosen explanations beside the random control."""
        rows = [f"{self.users} users, {self.recommendations} recommendations (top-{self.k}), "
                f"coverage {self.coverage:.1%}",
                f"{'':<22}{'chosen path':>14}{'random path':>14}"]
        for key, label in (("mean_score_drop", "mean score drop"), ("pn_at_k", f"PN@{self.k}"),
                           ("ps_at_k", f"PS@{self.k}")):
            rows.append(f"{label:<22}{self.chosen[key]:>14.4f}{self.random[key]:>14.4f}")
        rows.append(f"chosen drop > random drop in {self.chosen_beats_random:.1%} of pairs")
        return "\n".join(rows)


def _histories(driver: neo4j.Driver, database: str, user_ids: Sequence[str]) -> dict[str, list[str]]:
    records, _, _ = driver.execute_query(
        "UNWIND $user_ids AS uid MATCH (:User {id: uid})-[:INTERACTED]->(i:Item) "
        "RETURN uid, collect(i.id) AS items", user_ids=list(user_ids), database_=database,
        routing_=neo4j.RoutingControl.READ)
    return {r["uid"]: r["items"] for r in records}


def _in_top_k(scores: np.ndarray, item: int, candidates: np.ndarray, k: int) -> bool:
    """Whether ``item`` ranks in the top ``k`` of ``candidates`` (a boolean mask) by ``scores``."""
    better = np.count_nonzero(candidates & (scores > scores[item]))
    return better < k


def evaluate_sample(driver: neo4j.Driver, database: str, scorer: FrozenScorer, n_users: int = 100,
                    k: int = 10, seed: int = 0) -> FaithfulnessReport:
    """:func:`evaluate` on ``n_users`` users with recommendations, drawn with ``seed``."""
    model = library.active_model(driver, database)
    if model is None:
        raise LookupError("no active model: run `kgrec train` first")
    records, _, _ = driver.execute_query(cypher.load("recommended_users"), version=model.version,
                                         database_=database, routing_=neo4j.RoutingControl.READ)
    users = sorted(r["id"] for r in records)
    return evaluate(driver, database, scorer, random.Random(seed).sample(users, min(n_users, len(users))), k=k,
                    seed=seed)


def evaluate(driver: neo4j.Driver, database: str, scorer: FrozenScorer, user_ids: Sequence[str],
             k: int = 10, max_paths: int = 20, seed: int = 0) -> FaithfulnessReport:
    """Run the tests above for the materialised top-``k`` of each user in ``user_ids``."""
    rng = random.Random(seed)
    index = {item: i for i, item in enumerate(scorer.item_ids)}
    chosen, control = _Tally(), _Tally()
    wins = n_recs = n_explained = 0
    histories = _histories(driver, database, user_ids)
    for user in user_ids:
        history = histories.get(user, [])
        candidates = np.ones(len(index), dtype=bool)
        candidates[[index[i] for i in history if i in index]] = False
        base = scorer.score_items(user, history)
        for rec in library.recommendations(driver, database, user, k=k):
            n_recs += 1
            paths = library.explanation_paths(driver, database, user, rec.item_id, limit=max_paths)
            if not paths or rec.item_id not in index:
                continue
            n_explained += 1
            target = index[rec.item_id]
            drops = []
            for tally, path in ((chosen, paths[0]), (control, rng.choice(paths))):
                evidence = path.nodes[1].id
                without = scorer.score_items(user, [i for i in history if i != evidence])
                only = scorer.score_items(user, [evidence])
                drop = float(base[target] - without[target])
                drops.append(drop)
                tally.drops.append(drop)
                tally.left_top_k += not _in_top_k(without, target, candidates, k)
                tally.stayed_with_evidence_only += _in_top_k(only, target, candidates, k)
            wins += drops[0] > drops[1]
    return FaithfulnessReport(k=k, users=len(user_ids), recommendations=n_recs, explained=n_explained,
                              chosen=chosen.summary(), random=control.summary(),
                              chosen_beats_random=wins / n_explained if n_explained else 0.0)
