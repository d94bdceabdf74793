"""What a RECOMMENDED edge stores about its evidence, for the write-back and the live lists alike.

Per recommendation: ``evidence`` (the user's item ids that contribute most, strongest first),
``evidence_weights`` (their exact contributions) and, for a model that splits contributions into
channels, ``evidence_channels`` and ``evidence_links`` for the first :data:`EXPLAINED` of them
(the ones an explanation usually reads; see ``explain.cypher``), and, when they were counted, the
co-raters of every evidence item (``evidence_co_raters``, ``evidence_co_rater``; see
:mod:`kgrec.engine.co_raters`): an explanation passes over disliked evidence, so it may read
past the first five, and joining for those cost a query hundreds of MB on a dense graph. Built for a whole batch of users at
once with array operations: the write-back builds twenty edges per user while the server stores
the previous batch, and per-edge array indexing cost more client time than the server's work.
"""

from __future__ import annotations

import numpy as np

from kgrec.engine.co_raters import CoRaters
from kgrec.engine.models.base import ChannelParts

#: evidence items per recommendation whose channel split is stored
EXPLAINED = 5


def evidence_properties(item_ids: np.ndarray, items: np.ndarray, weights: np.ndarray, channels: ChannelParts | None,
                        rows: np.ndarray, co_raters: CoRaters | None = None) -> list[list[dict[str, list]]]:
    """The evidence properties of every target of ``rows``.

    Args:
        item_ids: the model's item ids (object array), indexed by ``items``.
        items, weights: (all rows x T x E) evidence items (-1 after the last) and contributions.
        channels: their split into channels, or None (no channel properties then).
        rows: which rows to build.
        co_raters: the co-raters of the evidence items, or None.

    Returns:
        per row, per target: ``evidence`` and ``evidence_weights`` (the -1 padding dropped) and,
        with ``channels`` that know their entities' ids, ``evidence_channels`` (two parts per
        item: the collaborative part and the strongest knowledge link's) and ``evidence_links``
        (that link as ``"RELATION:entity id"``, ``""`` when the item shares no entity with the
        target). Packed so, the edge gains two properties: each property costs the write-back
        more than its values do. With ``co_raters``, also ``evidence_co_raters`` (how many users
        interacted with each evidence item and the target) and ``evidence_co_rater`` (the one to
        draw, ``""`` for none).
    """
    properties = _channel_properties(item_ids, items, weights, channels, rows)
    if co_raters is not None:
        for edges, counts, drawn in zip(properties, co_raters.counts[rows].tolist(),
                                        co_raters.drawn_ids(rows).tolist()):
            for edge, count, who in zip(edges, counts, drawn):
                cited = len(edge["evidence"])
                edge.update(evidence_co_raters=count[:cited], evidence_co_rater=who[:cited])
    return properties


def _channel_properties(item_ids: np.ndarray, items: np.ndarray, weights: np.ndarray, channels: ChannelParts | None,
                        rows: np.ndarray) -> list[list[dict[str, list]]]:
    """The evidence and channel properties of :func:`evidence_properties`."""
    chosen = items[rows]
    counts = (chosen >= 0).sum(-1)
    cited = item_ids[np.maximum(chosen, 0)].tolist()
    contributions = weights[rows].astype(np.float64).tolist()
    if channels is None or channels.entity_ids is None:
        return [[{"evidence": ids[:n], "evidence_weights": parts[:n]} for ids, parts, n in zip(*row)]
                for row in zip(cited, contributions, counts.tolist())]
    names, offsets = channels.link_names
    relation = channels.link_relation[rows, :, :EXPLAINED, 0]
    entity = channels.link_entity[rows, :, :EXPLAINED, 0]
    links = names[np.where(relation >= 0, offsets[np.maximum(relation, 0)] + entity, -1)].tolist()
    split = np.stack([channels.collaborative[rows, :, :EXPLAINED], channels.link_part[rows, :, :EXPLAINED, 0]], -1)
    split = split.astype(np.float64).reshape(*split.shape[:2], -1).tolist()
    explained = np.minimum(counts, EXPLAINED).tolist()
    return [[{"evidence": ids[:n], "evidence_weights": parts[:n], "evidence_channels": pairs[:2 * m],
              "evidence_links": link[:m]} for ids, parts, n, pairs, link, m in zip(*row)]
            for row in zip(cited, contributions, counts.tolist(), split, links, explained)]
