"""The published model: relation-aware attention over the collaborative knowledge graph, with
item messages learned in closed form, so every score splits exactly into per-interaction parts."""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.graph import INTERACTION_KEY, EdgeKey, GraphColumns
from kgrec.engine.data.histories import Histories, histories_from_columns
from kgrec.engine.data.split import interaction_matrix, temporal_split
from kgrec.engine.models.base import FitData, Recommender
from kgrec.engine.models.ease import ease_weights
from kgrec.graph_schema import ITEM, USER

log = logging.getLogger(__name__)

#: item-item penalties tried on the validation split
LAMBDAS = (100.0, 300.0, 1000.0)
#: scales of the learned relation weights tried on the validation split: the inner objective
#: learns how the relations compare, validation decides how much knowledge the ranking takes
KNOWLEDGE_SHARES = (0.01, 0.1, 1.0)
#: share of each user's latest training interactions the attention learns to predict
INNER_HOLDOUT = 0.1
STEPS = 80
USERS_PER_STEP = 128
#: random items each step's softmax ranks the targets against
NEGATIVES = 512


class ItemGraphAttention(Recommender):
    r"""A two-layer linear graph attention network over the collaborative knowledge graph.

    **Layer 1, items.** Every item :math:`i` sends a message over the item catalogue made of its
    learned item-to-item weights and of its knowledge-graph neighbourhood:

    .. math::
        m_i = B_{i\cdot} + \sum_{r} \gamma_r \sum_{e \in \mathcal{N}_r(i)}
              \frac{1}{\sqrt{d_r(i)}\, d(e)} \sum_{j \in \mathcal{N}_r(e)} \frac{1}{\sqrt{d_r(j)}}\, \mathbf{1}_j

    :math:`B` is the closed-form least-squares item-item matrix with zero diagonal
    (:func:`~kgrec.engine.models.ease.ease_weights`), :math:`r` runs over the relations that join
    items to other entities (``IN_CATEGORY``, ``HAS_TAG``, ``DIRECTED_BY``, ...), and the learned
    :math:`\gamma_r` says how much each relation counts. The attention stored on a knowledge
    relationship :math:`(i, e)` is its share of :math:`i`'s knowledge message,
    :math:`\beta_{ie} \propto \gamma_r / (\sqrt{d_r(i)}\, d(e))`, normalised over :math:`i`'s
    knowledge relationships.

    **Layer 2, users.** A user is their interactions: :math:`\hat y(u, \cdot) = \sum_{i \in H(u)}
    \alpha_{ui}\, m_i`, with a relation-aware attention over the user's ``INTERACTED`` edges,

    .. math::
        \alpha_{ui} = \operatorname{softmax}_{i \in H(u)}\Big(\log\big(\phi + e^{-\rho_{ui}/\tau}\big)
                      + b_{c(u,i)}\Big)

    where :math:`\rho_{ui}` is the interaction's place from the end of the user's timeline (0 for
    the latest), :math:`\tau` and :math:`\phi` learn how fast older interactions fade and how much
    they keep, and :math:`c(u,i)` is the interaction's rating relation (liked, disliked: below the
    user's mean or at most 2 of 5, no rating) with a learned bias :math:`b`.

    **Why this shape.** On real ratings, the item-to-item least-squares weights rank better than
    any embedding model we trained, and a user's latest interactions say most about their next
    ones; the attention learns both the fading and the relation weights. And because the score
    is a sum over the user's interactions, :meth:`contributions` is exact: each interaction's
    part :math:`\alpha_{ui} m_{ij}` of the score of item :math:`j` is what an explanation cites.

    **Fitting.** :math:`\tau, \phi, b, \gamma` (and a softmax temperature used only by the loss)
    are learned with Adam on a listwise softmax loss: for each user, predict the latest
    :data:`INNER_HOLDOUT` of their training interactions from the earlier ones, with :math:`B`
    fitted on the earlier ones only. :math:`B`'s penalty (:data:`LAMBDAS`) and a common scale of
    the :math:`\gamma_r` (:data:`KNOWLEDGE_SHARES`) are then chosen on the validation split, and
    :math:`B` is refitted on every interaction the model will score
    from. Dense in items x items, like EASE: meant for catalogues up to tens of thousands.
    """

    name = "attention"
    has_attention = True
    folds_in = True

    def fit(self, data: FitData) -> "ItemGraphAttention":
        generator = torch.Generator().manual_seed(self.config.seed)
        self._graph(data.columns)
        inner = temporal_split(data.columns, test_fraction=INNER_HOLDOUT, val_fraction=0.0)
        inputs = inner.fit_columns(data.columns, inner.train)
        self.theta = _initial_theta(len(self.relations))
        self.weights = ease_weights(interaction_matrix(inputs), LAMBDAS[1])
        history = histories_from_columns(data.columns, inner.train)
        targets = inner.matrix(inner.test)
        self._learn_attention(history, targets, generator)
        best, learned = (LAMBDAS[1], 1.0), self.theta.clone()
        if data.validate:
            train, scores = interaction_matrix(data.columns), {}
            for lambda_reg in LAMBDAS:
                self.weights = ease_weights(train, lambda_reg)
                for share in KNOWLEDGE_SHARES if self.relations else (1.0,):
                    self.theta = _with_knowledge_share(learned, share)
                    scores[lambda_reg, share] = data.validate(self)
                    log.debug("attention model: lambda %g, knowledge share %g: validation NDCG@20 %.4f",
                             lambda_reg, share, scores[lambda_reg, share])
            best = max(scores, key=scores.get)
        self.theta = _with_knowledge_share(learned, best[1])
        self.weights = ease_weights(interaction_matrix(data.refit or data.columns), best[0])
        self._factored = None
        self.params = {"lambda": best[0], "knowledge_share": best[1], **self.attention_parameters(),
                       **({"val_ndcg@20": scores[best]} if data.validate else {}),
                       "loss_curve": getattr(self, "loss_curve", [])}
        log.info("attention model: lambda %g, knowledge share %g, %s", *best,
                 ", ".join(f"{k} {v:.3g}" for k, v in self.attention_parameters().items()))
        return self

    def attention_parameters(self) -> dict[str, float]:
        """The learned attention, readable: fading ``tau`` (interactions), ``floor``, the bias of
        disliked and unrated interactions, and each knowledge relation's weight."""
        theta = self.theta.detach()
        params = {"tau": float(theta[0].exp()), "floor": float(torch.sigmoid(theta[1])),
                  "bias_disliked": float(theta[2]), "bias_unrated": float(theta[3])}
        for (head, rel, tail), value in zip(self.relations, theta[5:].exp().tolist()):
            params[f"gamma_{rel}"] = value
        return params

    # -- the graph's knowledge relations -------------------------------------------------------

    def _graph(self, columns: GraphColumns) -> None:
        """The knowledge relations that join items to other entities, read off ``columns``."""
        relations, links = [], []
        for key in sorted(columns.edges):
            head, _, tail = key
            if key == INTERACTION_KEY or USER in (head, tail) or (head == ITEM) == (tail == ITEM):
                continue
            item_end, entity_end = (0, 1) if head == ITEM else (1, 0)
            ends = columns.edges[key]
            relations.append(key)
            links.append((np.asarray(ends[item_end], np.int64), np.asarray(ends[entity_end], np.int64),
                          len(columns.node_ids[tail if head == ITEM else head])))
        self._set_links(relations, links, len(columns.node_ids[ITEM]))

    def _set_links(self, relations: list[EdgeKey], links: list[tuple[np.ndarray, np.ndarray, int]],
                   n_items: int) -> None:
        """Each relation's (item, entity) links as normalised factors: ``left[r]`` (items x
        entities) and ``right[r]`` (entities x items) with ``left @ right`` the two-hop
        item-entity-item propagation of relation ``r``."""
        self.relations = list(relations)
        self.left, self.right, self._links = [], [], []
        for items, entities, n_entities in links:
            matrix = sp.csr_matrix((np.ones(len(items), np.float32), (items, entities)), shape=(n_items, n_entities))
            matrix.data[:] = 1.0
            item_degree = np.asarray(matrix.sum(1)).ravel()
            entity_degree = np.asarray(matrix.sum(0)).ravel()
            item_norm = 1.0 / np.sqrt(np.maximum(item_degree, 1.0))
            left = sp.diags(item_norm) @ matrix @ sp.diags(1.0 / np.maximum(entity_degree, 1.0))
            right = (sp.diags(item_norm) @ matrix).T
            self.left.append(torch.from_numpy(left.toarray().astype(np.float32)))
            self.right.append(torch.from_numpy(right.toarray().astype(np.float32)))
            self._links.append((items, entities, item_norm, entity_degree, n_entities))

    # -- scoring ---------------------------------------------------------------------------

    def _alpha(self, histories: Histories, theta: torch.Tensor) -> torch.Tensor:
        """:math:`\\alpha` of every interaction of ``histories`` (softmax per row)."""
        rows = torch.from_numpy(histories.row_of())
        recency = torch.from_numpy(histories.recency.astype(np.float32))
        relation = torch.from_numpy(interaction_relation(histories))
        tau, floor = theta[0].exp(), torch.sigmoid(theta[1])
        bias = torch.stack([theta.new_zeros(()), theta[2], theta[3]])
        logits = torch.log(floor + torch.exp(-recency / tau)) + bias[relation]
        n_rows = len(histories)
        peak = torch.full((n_rows,), -torch.inf).scatter_reduce(0, rows, logits.detach(), "amax")
        weights = torch.exp(logits - peak[rows])
        total = torch.zeros(n_rows).index_add(0, rows, weights)
        return weights / total[rows]

    def _scores(self, histories: Histories, theta: torch.Tensor, columns: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of every item, or only of the items ``columns`` (in that order)."""
        alpha = self._alpha(histories, theta)
        rows, items = torch.from_numpy(histories.row_of()), torch.from_numpy(histories.items)
        weights = self.weights if columns is None else self.weights[:, columns]
        scores = _WeightedRows.apply(alpha, rows, items, len(histories), weights)
        for gamma, left, right in zip(theta[5:].exp(), self.left, self.right):
            right = right if columns is None else right[:, columns]
            scores = scores + gamma * (_WeightedRows.apply(alpha, rows, items, len(histories), left) @ right)
        return scores

    @torch.no_grad()
    def score(self, histories: Histories) -> torch.Tensor:
        if len(histories.items) == 0:
            return torch.zeros(len(histories), histories.num_items)
        return self._scores(histories, self.theta)

    @torch.no_grad()
    def contributions(self, histories: Histories, row: int, targets: np.ndarray) -> np.ndarray:
        one = histories.select(np.array([row]))
        if len(one.items) == 0:
            return np.zeros((0, len(targets)), np.float32)
        alpha = self._alpha(one, self.theta)
        items, targets_t = torch.from_numpy(one.items), torch.from_numpy(np.asarray(targets, np.int64))
        messages = self.weights[items][:, targets_t]
        for gamma, left, right in zip(self.theta[5:].exp(), self.left, self.right):
            messages = messages + gamma * (left[items] @ right[:, targets_t])
        return (alpha[:, None] * messages).numpy()

    # -- learning the attention ------------------------------------------------------------------

    def _learn_attention(self, history: Histories, targets: sp.csr_matrix, generator: torch.Generator) -> None:
        users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
        if len(users) == 0:
            return
        theta = self.theta.clone().requires_grad_(True)
        with torch.no_grad():
            sample = history.select(users[:USERS_PER_STEP])
            theta[4] = torch.log(self._scores(sample, theta).std().clamp(min=1e-8))
        optimizer = torch.optim.Adam([theta], lr=0.05)
        curve = []
        n_items = history.num_items
        popular = torch.from_numpy(np.argsort(-np.asarray(history.binary().sum(0)).ravel(), kind="stable")[:NEGATIVES])
        for step in range(STEPS):
            pick = users[torch.randperm(len(users), generator=generator)[:USERS_PER_STEP].numpy()]
            batch = history.select(pick)
            wanted = targets[pick]
            # a sampled softmax: the batch's targets against the NEGATIVES most popular items (the
            # hard competitors) and as many random ones; the full softmax costs a pass over the
            # whole catalogue per step, for a handful of parameters
            others = torch.cat([popular, torch.randint(0, n_items, (NEGATIVES,), generator=generator)])
            candidates, position = torch.unique(torch.cat([torch.from_numpy(wanted.indices.astype(np.int64)), others]),
                                                return_inverse=True)
            logits = self._scores(batch, theta, candidates) / theta[4].exp()
            seen = np.zeros((len(pick), n_items), bool)
            seen[batch.row_of(), batch.items] = True
            logits = logits.masked_fill(torch.from_numpy(seen[:, candidates.numpy()]), -torch.inf)
            rows = torch.from_numpy(np.repeat(np.arange(len(pick)), np.diff(wanted.indptr)))
            log_p = logits[rows, position[:len(rows)]] - torch.logsumexp(logits, 1)[rows]
            loss = -log_p.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 20 == 0 or step == STEPS - 1:
                curve.append(round(loss.item(), 4))
        self.theta = theta.detach()
        self.loss_curve = curve

    # -- what is written back --------------------------------------------------------------

    @torch.no_grad()
    def attention(self, columns: GraphColumns, histories: Histories) -> dict[EdgeKey, np.ndarray]:
        interacted = np.zeros(len(columns.edges[INTERACTION_KEY][0]), np.float32)
        known = histories.edges >= 0
        interacted[histories.edges[known]] = self._alpha(histories, self.theta).numpy()[known]
        result = {INTERACTION_KEY: interacted}
        gammas = self.theta[5:].exp().numpy()
        raw = [gamma * item_norm[items] / np.maximum(entity_degree[entities], 1.0)
               for gamma, (items, entities, item_norm, entity_degree, _) in zip(gammas, self._links)]
        per_item = np.zeros(len(columns.node_ids[ITEM]))
        for (items, *_), values in zip(self._links, raw):
            np.add.at(per_item, items, values)
        for key, (items, *_), values in zip(self.relations, self._links, raw):
            result[key] = (values / np.maximum(per_item[items], 1e-12)).astype(np.float32)
        return result

    @torch.no_grad()
    def embeddings(self, columns: GraphColumns, histories: Histories) -> dict[str, np.ndarray]:
        """Items: a rank-``dim`` factorisation of the item-item weights, :math:`B \\approx P Q^\\top`,
        item :math:`j` is :math:`Q_j` (what points at it); users: :math:`\\sum_i \\alpha_{ui} P_i`,
        so a user's dot product with an item approximates the collaborative part of its score."""
        source, target = self._factors()
        alpha = self._alpha(histories, self.theta)
        users = torch.zeros(len(histories), source.shape[1]).index_add(
            0, torch.from_numpy(histories.row_of()), alpha[:, None] * source[torch.from_numpy(histories.items)])
        return {ITEM: target.numpy(), USER: users.numpy()}

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`(P, Q)` of the item-item weights, computed once per fitted or loaded model: a
        user folded in later gets an embedding in the same space as the ones written back."""
        if getattr(self, "_factored", None) is None:
            dim = min(self.config.dim, self.weights.shape[0])
            torch.manual_seed(self.config.seed)
            u, s, v = torch.svd_lowrank(self.weights, q=dim, niter=4)
            root = s.sqrt()
            self._factored = (u * root, v * root)
        return self._factored

    # -- persistence -----------------------------------------------------------------------

    def state(self) -> dict:
        """The item side whole (weights, attention parameters, knowledge links), so the model
        scores any history without the graph it was trained on."""
        return {"weights": self.weights, "theta": self.theta, "params": self.params,
                "relations": [list(key) for key in self.relations],
                "links": [[torch.from_numpy(items), torch.from_numpy(entities), n_entities]
                          for items, entities, _, _, n_entities in self._links]}

    def load_state(self, state: dict, columns: GraphColumns | None) -> "ItemGraphAttention":
        self.weights, self.theta, self.params = state["weights"], state["theta"], state["params"]
        self._set_links([tuple(key) for key in state["relations"]],
                        [(items.numpy(), entities.numpy(), int(n)) for items, entities, n in state["links"]],
                        self.weights.shape[0])
        self._factored = None
        return self


class _WeightedRows(torch.autograd.Function):
    """``out[b] = sum_k values[k] * dense[cols[k]]`` over the interactions ``k`` of row ``b``: a
    sparse (rows x items) matrix of attention values times a fixed dense matrix.

    Why not ``torch.sparse.mm`` alone: autograd through it materialises a sparse gradient by a
    slow generic path; here a value's gradient is the dot product of its row's gradient with its
    item's row of ``dense``, read off one dense product ``grad @ dense.T`` (a matrix product is
    several times faster than gathering each interaction's row)."""

    @staticmethod
    def forward(ctx, values: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, n_rows: int,
                dense: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(rows, cols, dense)
        sparse = torch.sparse_coo_tensor(torch.stack([rows, cols]), values.detach(), (n_rows, dense.shape[0]),
                                         check_invariants=False)
        return torch.sparse.mm(sparse, dense)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        rows, cols, dense = ctx.saved_tensors
        return (grad @ dense.T)[rows, cols], None, None, None, None


def _with_knowledge_share(theta: torch.Tensor, share: float) -> torch.Tensor:
    r"""``theta`` with every relation weight :math:`\gamma_r` multiplied by ``share``."""
    scaled = theta.clone()
    scaled[5:] += math.log(share)
    return scaled


def _initial_theta(relations: int) -> torch.Tensor:
    """Start from a 10-interaction fading with a 5% floor, no rating bias, each relation at 0.05."""
    return torch.tensor([math.log(10.0), math.log(0.05 / 0.95), 0.0, 0.0, 0.0] + [math.log(0.05)] * relations)


def interaction_relation(histories: Histories) -> np.ndarray:
    """Per interaction: 0 liked (or neutral), 1 disliked (below the user's own mean rating in
    ``histories``, or at most 2 on a 5-point scale), 2 no rating."""
    rating = histories.rating
    rows = histories.row_of()
    rated = ~np.isnan(rating)
    counts = np.bincount(rows[rated], minlength=len(histories))
    sums = np.bincount(rows[rated], weights=rating[rated], minlength=len(histories))
    mean = sums / np.maximum(counts, 1)
    disliked = rated & ((rating < mean[rows] - 1e-9) | (rating <= 2.0))
    return np.where(~rated, 2, np.where(disliked, 1, 0)).astype(np.int64)
