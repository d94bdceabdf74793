"""Do the explanations say what the model actually used, and can a person trust them?

For each recommended (user, item) the explanations a person is shown (the best ``shown``, as the
API and the demo serve them) are measured, with the trained model frozen (nothing is retrained).
The top explanation's evidence is tested against the evidence of a randomly chosen valid path
(any item of the user's history with a path of any shape to the item: the control):

- **coverage**: share of recommended items with at least one explanation;
- **deletion**: remove the evidence, the user's interaction with the path's first item,
  recompute the item's score and record the drop;
- **PN@K** (probability of necessity, after CountER, Tan et al. CIKM 2021): share of
  explanations whose deletion pushes the item out of the user's top-K;
- **PS@K** (probability of sufficiency): keep only the evidence (drop the user's other
  interactions) and check that the item is still in the top-K;
- **contribution gap**: where the evidence comes with the model's stored contribution, the
  mean |measured drop - stored contribution| (0 when the contributions are exact drops).

Is the path the reason? The model's contribution of the top explanation's evidence splits exactly
into channels (the collaborative part and one part per knowledge link, recomputed here from the
frozen model, not read from the edge):

- **channel fidelity**: the share of the evidence's positive parts that the shown path's channel
  carries (a co-interaction path stands for the collaborative part, a shared-entity path for
  that entity's link); goal >= 0.9. A genre path shown where the genre carries 1% scores 0.01;
- **largest channel shown**: share of top explanations whose path is the evidence's largest
  channel;
- **knowledge share**: the knowledge term's share of the top evidence's positive parts (median),
  over every recommendation and over cold items (at most :data:`COLD_ITEM` interactions).

What a person reads: the share of top explanations resting on a disliked interaction, repeated
sentences per item, which shapes are shown how often (and the share of knowledge-graph paths),
and how many distinct evidence items the top explanations of one user's top-K cite.

The top-K is always taken over the items the user had not interacted with before the edit, so
an edit changes the scores, never the candidate set.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import neo4j
import numpy as np

from kgrec import cypher
from kgrec.engine.data.graph import GraphColumns
from kgrec.engine.data.histories import histories_from_columns
from kgrec.engine.models.base import Recommender
from kgrec.graph_schema import ITEM, USER
from kgrec.serving import library
from kgrec.serving.results import ExplanationPath


class FrozenScorer(Protocol):
    """A trained model that scores every item for a user from an (edited) interaction history."""

    item_ids: Sequence[str]

    def score_items(self, user_id: str, history: Sequence[str]) -> np.ndarray:
        """Scores aligned with ``item_ids`` for ``user_id`` had they interacted with ``history`` only."""


#: an item with at most this many interactions is cold: its collaborative signal is thin
COLD_ITEM = 5
#: knowledge links named per evidence when measuring fidelity: every link two items share
ALL_LINKS = 64


class HistoryScorer:
    """:class:`FrozenScorer` over a fitted recommender (such as
    :func:`kgrec.engine.neo4j.persist.load_active`'s) and the graph it scores: an edited history keeps
    each remaining interaction's place in the user's timeline and its rating."""

    def __init__(self, model: Recommender, columns: GraphColumns) -> None:
        self._model = model
        self.item_ids = list(columns.node_ids[ITEM])
        self._items = {item: i for i, item in enumerate(self.item_ids)}
        self._users = {user: i for i, user in enumerate(columns.node_ids[USER])}
        self._histories = histories_from_columns(columns)
        self._interactions = np.bincount(self._histories.items, minlength=len(self.item_ids))

    def interactions_of(self, item_id: str) -> int:
        """How many interactions ``item_id`` has in the graph."""
        return int(self._interactions[self._items[item_id]])

    def channel_parts(self, user_id: str, evidence_id: str, item_id: str) -> dict[str | tuple[str, str], float] | None:
        """The exact split of ``evidence_id``'s contribution to ``item_id``'s score for
        ``user_id`` (whole history): ``{"collaborative": part, (relation type, entity id): part,
        ...}``; None when the model has no split or the user has no such interaction."""
        one = self._histories.select(np.array([self._users[user_id]]))
        position = np.flatnonzero(one.items == self._items[evidence_id])
        if not len(position):
            return None
        channels = self._model.channels(one, np.array([[self._items[item_id]]]), position[:1].reshape(1, 1, 1),
                                        links=ALL_LINKS)
        if channels is None:
            return None
        parts: dict[str | tuple[str, str], float] = {"collaborative": float(channels.collaborative[0, 0, 0])}
        for r, e, part in zip(channels.link_relation[0, 0, 0], channels.link_entity[0, 0, 0],
                              channels.link_part[0, 0, 0]):
            if r >= 0:
                name = str(channels.entity_ids[r][e]) if channels.entity_ids is not None else str(e)
                parts[channels.relation_types[r], name] = float(part)
        return parts

    def score_items(self, user_id: str, history: Sequence[str]) -> np.ndarray:
        row = self._users[user_id]
        keep = np.array([self._items[i] for i in history if i in self._items], dtype=np.int64)
        scores = self._model.score(self._histories.only(row, keep))[0]
        return scores.detach().cpu().numpy()


#: Path shapes that go through the knowledge graph (not through other users).
KNOWLEDGE_GRAPH_SHAPES = frozenset({"shared_entity", "category_hierarchy"})


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
    shown: int = 3
    explanations_shown: int = 0
    disliked_top: int = 0
    duplicate_sentences: int = 0
    shapes: dict[str, int] = field(default_factory=dict)
    top_shapes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    distinct_evidence_per_user: float = 0.0
    contribution_gap: float | None = None
    channel_fidelity: float | None = None
    largest_channel_shown: float | None = None
    knowledge_share_median: float | None = None
    cold_recommendations: int = 0
    knowledge_share_median_cold: float | None = None
    top_shapes_cold: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return self.explained / self.recommendations if self.recommendations else 0.0

    @property
    def drop_ratio(self) -> float:
        """Chosen evidence's mean score drop over the random control's (goal >= 2)."""
        control = self.random["mean_score_drop"]
        return self.chosen["mean_score_drop"] / control if control > 0 else float("inf")

    @property
    def disliked_top_share(self) -> float:
        """Share of top explanations whose evidence the user disliked (goal <= 1%)."""
        return self.disliked_top / self.explained if self.explained else 0.0

    @property
    def duplicates_per_item(self) -> float:
        """Repeated sentences per explained item (goal 0)."""
        return self.duplicate_sentences / self.explained if self.explained else 0.0

    @property
    def knowledge_graph_share(self) -> float:
        """Share of shown explanations that go through the knowledge graph."""
        total = sum(self.shapes.values())
        return sum(n for s, n in self.shapes.items() if s in KNOWLEDGE_GRAPH_SHAPES) / total if total else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "coverage": self.coverage, "drop_ratio": self.drop_ratio,
                "disliked_top_share": self.disliked_top_share, "duplicates_per_item": self.duplicates_per_item,
                "knowledge_graph_share": self.knowledge_graph_share}

    def table(self) -> str:
        """The report as plain text: chosen evidence beside the random control, then readability."""
        rows = [f"{self.users} users, {self.recommendations} recommendations (top-{self.k}), "
                f"coverage {self.coverage:.1%}",
                f"{'':<22}{'chosen evidence':>16}{'random path':>14}"]
        for key, label in (("mean_score_drop", "mean score drop"), ("pn_at_k", f"PN@{self.k}"),
                           ("ps_at_k", f"PS@{self.k}")):
            rows.append(f"{label:<22}{self.chosen[key]:>16.4f}{self.random[key]:>14.4f}")
        rows.append(f"chosen / random drop {self.drop_ratio:.2f}x; chosen drop > random drop in "
                    f"{self.chosen_beats_random:.1%} of pairs")
        sources = ", ".join(f"{s} {n}" for s, n in sorted(self.sources.items())) or "none"
        rows.append(f"evidence of the top explanations: {sources}")
        if self.contribution_gap is not None:
            rows.append(f"mean |measured drop - stored contribution| {self.contribution_gap:.4f}")
        if self.channel_fidelity is not None:
            cold = ", ".join(f"{s} {n}" for s, n in sorted(self.top_shapes_cold.items(), key=lambda x: -x[1])) or "none"
            rows += [f"channel fidelity of the top explanations {self.channel_fidelity:.3f} (goal >= 0.9); "
                     f"largest channel shown {self.largest_channel_shown:.1%}",
                     f"knowledge share of the top evidence: median {self.knowledge_share_median:.3f}; "
                     f"on {self.cold_recommendations} cold items (<= {COLD_ITEM} interactions) "
                     + (f"{self.knowledge_share_median_cold:.3f}" if self.knowledge_share_median_cold is not None
                        else "n/a") + f", their top shapes: {cold}"]
        shapes = ", ".join(f"{s} {n}" for s, n in sorted(self.shapes.items(), key=lambda x: -x[1])) or "none"
        top = ", ".join(f"{s} {n}" for s, n in sorted(self.top_shapes.items(), key=lambda x: -x[1])) or "none"
        rows += [f"top explanations citing disliked evidence {self.disliked_top_share:.1%} "
                 f"({self.disliked_top} of {self.explained})",
                 f"repeated sentences per item {self.duplicates_per_item:.3f} "
                 f"(up to {self.shown} shown per item, {self.explanations_shown} in all)",
                 f"shapes shown: {shapes}; knowledge-graph share {self.knowledge_graph_share:.1%}",
                 f"shapes of the top explanations: {top}",
                 f"distinct evidence items cited by one user's top-{self.k} top explanations "
                 f"{self.distinct_evidence_per_user:.2f}"]
        return "\n".join(rows)


def _histories(driver: neo4j.Driver, database: str, user_ids: Sequence[str]) -> dict[str, list[str]]:
    records, _, _ = driver.execute_query(cypher.load("user_histories"), user_ids=list(user_ids), database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return {r["user_id"]: r["items"] for r in records}


def _in_top_k(scores: np.ndarray, item: int, candidates: np.ndarray, k: int) -> bool:
    """Whether ``item`` ranks in the top ``k`` of ``candidates`` (a boolean mask) by ``scores``."""
    better = np.count_nonzero(candidates & (scores > scores[item]))
    return better < k


def leave_one_out_evidence(scorer: FrozenScorer, user_id: str, history: Sequence[str], item_ids: Sequence[str],
                           top: int = 10) -> dict[str, tuple[list[str], list[float]]]:
    """For each of ``item_ids``: the ``top`` items of ``history`` whose removal drops its score
    most, strongest first, with those drops — the evidence a model without an exact score
    decomposition can store on RECOMMENDED edges (``rec.evidence``, ``rec.evidence_weights``).
    One re-scoring per history item."""
    index = {item: i for i, item in enumerate(scorer.item_ids)}
    targets = [index[i] for i in item_ids]
    base = scorer.score_items(user_id, history)[targets]
    drops = np.stack([base - scorer.score_items(user_id, [h for h in history if h != left])[targets]
                      for left in history]) if history else np.zeros((0, len(targets)))
    found = {}
    for column, item in enumerate(item_ids):
        order = [row for row in np.argsort(-drops[:, column], kind="stable") if history[row] != item][:top]
        found[item] = ([history[row] for row in order], [float(drops[row, column]) for row in order])
    return found


def evaluate_sample(driver: neo4j.Driver, database: str, scorer: FrozenScorer, n_users: int = 100,
                    k: int = 10, seed: int = 0, shown: int = 3) -> FaithfulnessReport:
    """:func:`evaluate` on ``n_users`` users with recommendations, drawn with ``seed``."""
    return evaluate(driver, database, scorer, sample_users(driver, database, n_users, seed), k=k, seed=seed,
                    shown=shown)


def sample_users(driver: neo4j.Driver, database: str, n_users: int, seed: int = 0) -> list[str]:
    """``n_users`` users with recommendations from the active model, drawn with ``seed``."""
    model = library.active_model(driver, database)
    if model is None:
        raise LookupError("no active model: run `kgrec train` first")
    records, _, _ = driver.execute_query(cypher.load("recommended_users"), version=model.version,
                                         database_=database, routing_=neo4j.RoutingControl.READ)
    users = sorted(r["id"] for r in records)
    return random.Random(seed).sample(users, min(n_users, len(users)))


def evaluate(driver: neo4j.Driver, database: str, scorer: FrozenScorer, user_ids: Sequence[str],
             k: int = 10, seed: int = 0, shown: int = 3) -> FaithfulnessReport:
    """Run the tests above for the materialised top-``k`` of each user in ``user_ids``, with the
    ``shown`` explanations per item that the API serves (stored ones when they are enough)."""
    rng = random.Random(seed)
    index = {item: i for i, item in enumerate(scorer.item_ids)}
    chosen, control = _Tally(), _Tally()
    wins = n_recs = n_explained = n_shown = disliked = duplicates = 0
    shapes, top_shapes, sources, top_shapes_cold = Counter(), Counter(), Counter(), Counter()
    gaps, distinct, fidelity, largest, knowledge_share, knowledge_share_cold = [], [], [], [], [], []
    split = getattr(scorer, "channel_parts", None)
    histories = _histories(driver, database, user_ids)
    for user in user_ids:
        history = histories.get(user, [])
        candidates = np.ones(len(index), dtype=bool)
        candidates[[index[i] for i in history if i in index]] = False
        base = scorer.score_items(user, history)
        cited = set()
        # Re-scorings per removed / kept evidence item: one user's top-K lean on a few items.
        without_cache: dict[str, np.ndarray] = {}
        only_cache: dict[str, np.ndarray] = {}
        for rec in library.recommendations(driver, database, user, k=k, paths=shown):
            n_recs += 1
            paths = rec.explanations or []
            if not paths or rec.item_id not in index:
                continue
            n_explained += 1
            top = paths[0]
            n_shown += len(paths)
            sentences = [p.sentence for p in paths]
            duplicates += len(sentences) - len(set(sentences))
            shapes.update(p.shape for p in paths)
            top_shapes[top.shape] += 1
            sources[top.source] += 1
            disliked += top.disliked
            cited.add(top.evidence)
            target = index[rec.item_id]
            drops = []
            random_evidence = rng.choice(library.valid_evidence(driver, database, user, rec.item_id) or [top.evidence])
            for tally, evidence in ((chosen, top.evidence), (control, random_evidence)):
                if evidence not in without_cache:
                    without_cache[evidence] = scorer.score_items(user, [i for i in history if i != evidence])
                    only_cache[evidence] = scorer.score_items(user, [evidence])
                without, only = without_cache[evidence], only_cache[evidence]
                drop = float(base[target] - without[target])
                drops.append(drop)
                tally.drops.append(drop)
                tally.left_top_k += not _in_top_k(without, target, candidates, k)
                tally.stayed_with_evidence_only += _in_top_k(only, target, candidates, k)
            wins += drops[0] > drops[1]
            if top.source == "model_contribution":
                gaps.append(abs(drops[0] - (top.contribution if top.contribution is not None else top.weight)))
            parts = split(user, top.evidence, rec.item_id) if split else None
            if parts:
                shown_fidelity, knowledge, is_largest = _channel_measures(top, parts)
                fidelity.append(shown_fidelity)
                largest.append(is_largest)
                knowledge_share.append(knowledge)
                if scorer.interactions_of(rec.item_id) <= COLD_ITEM:
                    knowledge_share_cold.append(knowledge)
                    top_shapes_cold[top.shape] += 1
        if cited:
            distinct.append(len(cited))
    return FaithfulnessReport(k=k, users=len(user_ids), recommendations=n_recs, explained=n_explained,
                              chosen=chosen.summary(), random=control.summary(),
                              chosen_beats_random=wins / n_explained if n_explained else 0.0,
                              shown=shown, explanations_shown=n_shown, disliked_top=disliked,
                              duplicate_sentences=duplicates, shapes=dict(shapes), top_shapes=dict(top_shapes),
                              sources=dict(sources),
                              distinct_evidence_per_user=float(np.mean(distinct)) if distinct else 0.0,
                              contribution_gap=float(np.mean(gaps)) if gaps else None,
                              channel_fidelity=float(np.mean(fidelity)) if fidelity else None,
                              largest_channel_shown=float(np.mean(largest)) if largest else None,
                              knowledge_share_median=float(np.median(knowledge_share)) if knowledge_share else None,
                              cold_recommendations=len(knowledge_share_cold),
                              knowledge_share_median_cold=float(np.median(knowledge_share_cold))
                              if knowledge_share_cold else None,
                              top_shapes_cold=dict(top_shapes_cold))


def _channel_measures(path: ExplanationPath, parts: dict[str | tuple[str, str], float]) -> tuple[float, float, bool]:
    """For a shown ``path`` and the exact channel ``parts`` of its evidence: the share of the
    positive parts its channel carries, the knowledge term's share of them, and whether its
    channel is the largest."""
    positive = {channel: max(part, 0.0) for channel, part in parts.items()}
    mass = sum(positive.values())
    if path.shape == "co_interaction":
        shown = positive["collaborative"]
    elif path.shape == "shared_entity":
        shown = positive.get((path.relationships[1].type, path.nodes[2].id), 0.0)
    else:  # no channel of the model runs through a category hierarchy
        shown = 0.0
    knowledge = mass - positive["collaborative"]
    return (shown / mass if mass > 0 else 0.0, knowledge / mass if mass > 0 else 0.0,
            mass > 0 and shown >= max(positive.values()))
