"""Who else interacted with both an evidence item and the item it explains: the facts a
co-interaction path states ("N others who watched X also watched Y", and the one drawn).

``explain.cypher`` used to find them with a join over every co-rater of every pair it showed:
on a dense real graph that join was half the cost of storing explanations. The write-back knows
the interactions and their attention already, so it counts once, for the pairs an explanation
reads, and the query only draws the path through the co-rater it is given. The index travels
with the checkpoint, so a list the API computes live carries the same facts.

The facts are those of the graph the model was trained on, as ``explain.cypher`` would find them
there: ``others`` counts the users who interacted with both items (the recommended item is one
the user has not interacted with, so the user is never among them), and the drawn co-rater is
the one whose two interactions weigh most, ``support = attention(v -> evidence) *
attention(v -> target)`` (1 where the model has no attention), ties to the smallest user id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from kgrec.engine.data.graph import INTERACTION_KEY, GraphColumns
from kgrec.graph_schema import ITEM, USER

#: pair-user candidates looked up at once (bounds the memory of one step: ~40 bytes each)
CHUNK = 4_000_000


@dataclass
class CoRaters:
    """Per (row, target, evidence) of the pairs asked for.

    Attributes:
        counts: how many users interacted with both the evidence item and the target (0 for a
            padded pair).
        drawn: the co-rater to draw (user index; -1 when there is none).
        user_ids: the users' ids, then ``""`` (what index -1 names).
    """

    counts: np.ndarray
    drawn: np.ndarray
    user_ids: np.ndarray

    def drawn_ids(self, rows: np.ndarray) -> np.ndarray:
        """The id of the co-rater drawn for each pair of ``rows`` (``""`` for none)."""
        return self.user_ids[self.drawn[rows]]


class CoRaterIndex:
    """The interactions of a graph, item by item (users ascending within an item: node ids are
    sorted, so index order is id order), with the attention the model gives each."""

    def __init__(self, keys: np.ndarray, weights: np.ndarray, user_ids: np.ndarray, n_items: int):
        """``keys``: ``item * users + user`` of every interaction, sorted; ``weights``: their
        attention, in that order."""
        self.keys, self.weights, self.n_items = keys, weights, n_items
        self.n_users = len(user_ids)
        self.user_ids = np.append(np.asarray(user_ids, dtype=object), "")
        self.starts = np.searchsorted(keys, np.arange(n_items + 1, dtype=np.int64) * self.n_users)
        self.degree = np.diff(self.starts)

    @classmethod
    def from_columns(cls, columns: GraphColumns, attention: np.ndarray | None) -> CoRaterIndex:
        """The index of ``columns``' ``INTERACTED`` relationships, with ``attention`` on them (in
        ``columns.edges`` order), or with 1 everywhere when None."""
        users, items = columns.edges[INTERACTION_KEY]
        user_ids = columns.node_ids[USER]
        keys = items.astype(np.int64) * len(user_ids) + users
        order = np.argsort(keys, kind="stable")
        weights = np.ones(len(keys), np.float32) if attention is None else np.asarray(attention, np.float32)
        return cls(keys[order], weights[order], user_ids, len(columns.node_ids[ITEM]))

    def state(self) -> dict:
        """What a checkpoint keeps of it (tensors and plain values only)."""
        return {"keys": torch.from_numpy(self.keys), "weights": torch.from_numpy(self.weights),
                "user_ids": [str(user) for user in self.user_ids[:-1].tolist()], "n_items": self.n_items}

    @classmethod
    def from_state(cls, state: dict) -> CoRaterIndex:
        return cls(state["keys"].numpy(), state["weights"].numpy(), np.asarray(state["user_ids"], dtype=object),
                   int(state["n_items"]))

    def count(self, evidence: np.ndarray, targets: np.ndarray) -> CoRaters:
        """The co-raters of every (evidence item, target) pair: ``evidence`` (rows x T x E) and
        ``targets`` (rows x T) are item indices, -1 for none; an item the index does not know
        (added after training) has none."""
        pair_targets = np.broadcast_to(targets[..., None], evidence.shape)
        valid = (evidence >= 0) & (pair_targets >= 0) & (evidence < self.n_items) & (pair_targets < self.n_items)
        pairs, inverse = np.unique(evidence[valid].astype(np.int64) * self.n_items + pair_targets[valid],
                                   return_inverse=True)
        first, second = np.divmod(pairs, self.n_items)
        # walk the users of the item with fewer, look each up among the other item's
        walked = np.where(self.degree[first] <= self.degree[second], first, second)
        other = np.where(walked == first, second, first)
        counts = np.zeros(len(pairs), np.int32)
        drawn = np.full(len(pairs), -1, np.int64)
        before = np.cumsum(self.degree[walked]) - self.degree[walked]
        start = 0
        while start < len(pairs):
            end = max(start + 1, int(np.searchsorted(before, before[start] + CHUNK, side="right")))
            self._count_chunk(np.arange(start, end), walked, other, counts, drawn)
            start = end
        out_counts = np.zeros(evidence.shape, np.int32)
        out_drawn = np.full(evidence.shape, -1, np.int64)
        out_counts[valid], out_drawn[valid] = counts[inverse], drawn[inverse]
        return CoRaters(out_counts, out_drawn, self.user_ids)

    def _count_chunk(self, chunk: np.ndarray, walked: np.ndarray, other: np.ndarray, counts: np.ndarray,
                     drawn: np.ndarray) -> None:
        """Count and draw the co-raters of the pairs ``chunk`` into ``counts`` and ``drawn``."""
        lengths = self.degree[walked[chunk]]
        pair = np.repeat(chunk, lengths)
        offsets = np.cumsum(lengths) - lengths
        position = np.repeat(self.starts[walked[chunk]] - offsets, lengths) + np.arange(lengths.sum())
        user = self.keys[position] - walked[pair] * self.n_users
        wanted = other[pair] * self.n_users + user
        found_at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = self.keys[found_at] == wanted
        pair, user = pair[found], user[found]
        support = self.weights[position[found]].astype(np.float64) * self.weights[found_at[found]]
        counts[chunk] = np.bincount(pair, minlength=chunk[-1] + 1)[chunk]
        if len(pair) == 0:
            return
        # entries come grouped by pair, users ascending: the first that reaches its pair's maximum
        # is the smallest id among the strongest
        bounds = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        strongest = np.maximum.reduceat(support, bounds)
        at_max = np.flatnonzero(support == np.repeat(strongest, np.diff(np.r_[bounds, len(pair)])))
        first = at_max[np.r_[True, pair[at_max][1:] != pair[at_max][:-1]]]
        drawn[pair[first]] = user[first]
