"""From a trained attention model to what the write-back stores: embeddings, attention, top-K.

The model is propagated once over the *whole* graph (every interaction, not only the training
ones): users are scored from all they did, and every relationship gets an attention value.
The node index space is the same as the training graph's (ids sorted per label), so trained
weights apply unchanged.

Attention stored on a relationship ``(h)-[r]->(t)`` is the attention of the message
``t -> h`` (relation ``r``, not its inverse), averaged over layers: how much ``t`` shaped
``h``'s representation, normalised over ``h``'s incoming edges. For ``INTERACTED`` that is how
much the item shaped the user; for ``IN_CATEGORY`` / ``DIRECTED_BY`` how much the category /
creator shaped the item — the reading the explanation query uses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.graph import INTERACTION_KEY, GraphColumns, flatten
from kgrec.engine.metrics import top_k
from kgrec.engine.models.kgat import FrozenKGAT
from kgrec.engine.train import KGATTask
from kgrec.engine.writeback import ModelOutput
from kgrec.graph_schema import ITEM, USER


def model_output(task: KGATTask, columns: GraphColumns, version: str, k: int = 20, params: dict | None = None,
                 metrics: dict | None = None, user_batch: int = 2048) -> ModelOutput:
    """Embeddings per label, attention per relationship and the top-``k`` unseen items per user.

    Args:
        task: the trained attention model.
        columns: the full graph (same node ids as the training graph).
        version: the model version to tag everything with.
        k: recommendations per user.
    """
    graph = flatten(columns)
    layers, attention = task.model.propagate_all(graph)
    final = torch.stack(layers).mean(0).cpu()
    embeddings = {label: final[graph.offsets[label]:graph.offsets[label] + len(ids)].numpy()
                  for label, ids in columns.node_ids.items()}
    per_key = {}
    forward = graph.edge_type % 2 == 0
    for rel, key in enumerate(graph.edge_key):
        mine = forward & (graph.edge_type == 2 * rel)
        values = np.zeros(len(columns.edges[key][0]), np.float32)
        values[graph.origin[mine].numpy()] = attention[mine].numpy()
        per_key[key] = values
    users, items = columns.edges[INTERACTION_KEY]
    n_users, n_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
    seen = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    frozen = FrozenKGAT(task.model, layers, graph.offsets[USER], graph.offsets[ITEM], n_items)
    top_items = np.full((n_users, k), -1, np.int64)
    top_scores = np.zeros((n_users, k), np.float32)
    for start in range(0, n_users, user_batch):
        batch = np.arange(start, min(start + user_batch, n_users))
        rows = seen[batch]
        scores = frozen.score_matrix(batch, rows.indptr, rows.indices).cpu()
        best = top_k(scores, seen, batch, k)
        chosen = torch.gather(scores, 1, best)
        unseen = n_items - np.diff(rows.indptr)
        width = best.shape[1]
        valid = np.arange(width)[None, :] < np.minimum(unseen, width)[:, None]
        top_items[batch, :width] = np.where(valid, best.numpy(), -1)
        top_scores[batch, :width] = np.where(valid, chosen.numpy(), 0.0)
    return ModelOutput(version, embeddings, per_key, top_items, top_scores, params or {}, metrics or {})
