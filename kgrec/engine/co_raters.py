"""Who else interacted with both an evidence item and the item it explains: the facts a
co-interaction path states ("N others who watched X also watched Y", and the one drawn).

``explain.cypher`` used to find them with a join over every co-rater of every pair it showed:
on a dense real graph that join was half the cost of storing explanations. The write-back knows
the interactions and their attention already, so it counts once, for the pairs an explanation
reads, and the query only draws the path through the co-rater it is given.

The facts are those of the graph the model was trained on, as ``explain.cypher`` would find them
there: ``others`` counts the users who interacted with both items (the recommended item is one
the user has not interacted with, so the user is never among them), and the drawn co-rater is
the one whose two interactions weigh most, ``support = attention(v -> evidence) *
attention(v -> target)`` (1 where the model has no attention), ties to the smallest user id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def co_raters(columns: GraphColumns, attention: np.ndarray | None, evidence: np.ndarray,
              targets: np.ndarray) -> CoRaters:
    """The co-raters of every (evidence item, target) pair.

    Args:
        columns: the graph, whose ``INTERACTED`` relationships are counted.
        attention: the model's attention on those relationships, in ``columns.edges`` order, or
            None (every support is 1 then).
        evidence: (rows x T x E) evidence items (-1 for none).
        targets: (rows x T) the items they explain (-1 for none).
    """
    users, items = columns.edges[INTERACTION_KEY]
    n_users, n_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
    weights = np.ones(len(users)) if attention is None else np.asarray(attention, dtype=np.float64)
    # item-major keys, users sorted within an item: node ids are sorted, so index order is id order
    keys = items.astype(np.int64) * n_users + users
    order = np.argsort(keys, kind="stable")
    keys, weights = keys[order], weights[order]
    starts = np.searchsorted(keys, np.arange(n_items + 1, dtype=np.int64) * n_users)
    degree = np.diff(starts)

    pair_targets = np.broadcast_to(targets[..., None], evidence.shape)
    valid = (evidence >= 0) & (pair_targets >= 0)
    pairs, inverse = np.unique(evidence[valid].astype(np.int64) * n_items + pair_targets[valid], return_inverse=True)
    first, second = np.divmod(pairs, n_items)
    # walk the users of the item with fewer, look each up among the other item's
    walked = np.where(degree[first] <= degree[second], first, second)
    other = np.where(walked == first, second, first)
    counts = np.zeros(len(pairs), np.int32)
    drawn = np.full(len(pairs), -1, np.int64)
    before = np.cumsum(degree[walked]) - degree[walked]
    start = 0
    while start < len(pairs):
        end = max(start + 1, int(np.searchsorted(before, before[start] + CHUNK, side="right")))
        _count_chunk(np.arange(start, end), walked, other, keys, weights, starts, degree, n_users, counts, drawn)
        start = end
    out_counts = np.zeros(evidence.shape, np.int32)
    out_drawn = np.full(evidence.shape, -1, np.int64)
    out_counts[valid], out_drawn[valid] = counts[inverse], drawn[inverse]
    return CoRaters(out_counts, out_drawn, np.append(np.asarray(columns.node_ids[USER], dtype=object), ""))


def _count_chunk(chunk: np.ndarray, walked: np.ndarray, other: np.ndarray, keys: np.ndarray, weights: np.ndarray,
                 starts: np.ndarray, degree: np.ndarray, n_users: int, counts: np.ndarray, drawn: np.ndarray) -> None:
    """Count and draw the co-raters of the pairs ``chunk`` into ``counts`` and ``drawn``."""
    lengths = degree[walked[chunk]]
    pair = np.repeat(chunk, lengths)
    offsets = np.cumsum(lengths) - lengths
    position = np.repeat(starts[walked[chunk]] - offsets, lengths) + np.arange(lengths.sum())
    user = keys[position] - walked[pair] * n_users
    wanted = other[pair] * n_users + user
    found_at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = keys[found_at] == wanted
    pair, user = pair[found], user[found]
    support = weights[position[found]] * weights[found_at[found]]
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
