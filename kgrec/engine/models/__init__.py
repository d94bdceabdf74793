"""Recommendation models, one per file, all behind :class:`~kgrec.engine.models.base.Recommender`.

:data:`MODELS` is the registry: ``kgrec eval`` compares every entry of :data:`EVALUATED`, and
``kgrec train --model`` publishes any entry that has attention to write back. Entries name
their class as ``"module:Class"`` so that listing them (``kgrec --help``) imports no torch;
:func:`~kgrec.engine.models.base.create` imports the one it builds. Adding a model is one file
and one line here.
"""

from __future__ import annotations

MODELS: dict[str, str | type] = {
    "attention": "kgrec.engine.models.item_graph_attention:ItemGraphAttention",
    "kgat": "kgrec.engine.models.kgat:KGATRecommender",
    "lightgcn": "kgrec.engine.models.lightgcn:LightGCN",
    "ease": "kgrec.engine.models.ease:EASE",
    "ease_recency": "kgrec.engine.models.ease_recency:EASERecency",
    "sasrec": "kgrec.engine.models.sasrec:SASRec",
    "item_knn": "kgrec.engine.models.item_knn:ItemKNN",
    "popularity": "kgrec.engine.models.popularity:Popularity",
}

#: what ``kgrec eval`` compares by default: the published model, the two time-aware baselines
#: (recency-weighted EASE, SASRec) and the four time-blind ones
EVALUATED = ("attention", "ease_recency", "sasrec", "lightgcn", "ease", "item_knn", "popularity")
