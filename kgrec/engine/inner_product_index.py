r"""Maximum-inner-product search through Neo4j's vector index, which ranks by cosine or
Euclidean distance only.

The model's embeddings approximate its scores as dot products, :math:`\hat y(u, j) \approx x_u
\cdot q_j`, and the index must find the items with the largest dot product, not the smallest
angle. The standard reduction (Bachrach et al., RecSys 2014) gives every item vector one more
coordinate, :math:`\sqrt{R^2 - \lVert q_j \rVert^2}`, with :math:`R` a bound on the item norms,
and every query vector a 0 there. All item vectors then have norm :math:`R`, so

.. math::
    \cos(\tilde x_u, \tilde q_j) = \frac{x_u \cdot q_j}{\lVert x_u \rVert\, R}

and the cosine ranking of a query over the items is its dot-product ranking (Neo4j's cosine
score :math:`(1 + \cos) / 2` and Euclidean score :math:`1 / (1 + d^2)` are both monotone in it).
The dot product itself is unchanged: the query's extra coordinate is 0.
"""

from __future__ import annotations

import numpy as np


def norm_bound(items: np.ndarray) -> float:
    """The largest norm of the item vectors ``items`` (items x dim): the :math:`R` that every
    indexed item vector is brought to."""
    return float(np.linalg.norm(items, axis=1).max(initial=0.0))


def indexed_items(items: np.ndarray, bound: float) -> np.ndarray:
    """``items`` (items x dim) with the coordinate that brings each to norm ``bound``: the
    vectors the index holds. A vector longer than ``bound`` gets 0 there (it then ranks as if
    slightly shorter than it is)."""
    squared = np.einsum("ij,ij->i", items, items)
    extra = np.sqrt(np.maximum(bound * bound - squared, 0.0))
    return np.hstack([items, extra[:, None]]).astype(np.float32)


def queries(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` (rows x dim) as index queries: a 0 in the extra coordinate, so their dot
    product with an indexed item is the one the embeddings approximate."""
    return np.hstack([vectors, np.zeros((len(vectors), 1), vectors.dtype)]).astype(np.float32)
