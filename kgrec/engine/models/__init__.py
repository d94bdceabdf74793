"""Recommendation models, one per file, all behind :class:`~kgrec.engine.models.base.Recommender`.

:data:`MODELS` is the registry: ``kgrec eval`` compares every entry of :data:`EVALUATED`, and
``kgrec train --model`` publishes any entry that has attention to write back.
"""

from __future__ import annotations

from kgrec.engine.models.base import Recommender
from kgrec.engine.models.ease import EASE
from kgrec.engine.models.item_graph_attention import ItemGraphAttention
from kgrec.engine.models.item_knn import ItemKNN
from kgrec.engine.models.kgat import KGATRecommender
from kgrec.engine.models.lightgcn import LightGCN
from kgrec.engine.models.popularity import Popularity

MODELS: dict[str, type[Recommender]] = {model.name: model for model in (
    ItemGraphAttention, KGATRecommender, LightGCN, EASE, ItemKNN, Popularity)}

#: what ``kgrec eval`` compares by default: the published model and the four baselines
EVALUATED = ("attention", "lightgcn", "ease", "item_knn", "popularity")
