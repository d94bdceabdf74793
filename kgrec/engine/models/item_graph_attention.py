"""The published model: relation-aware attention over the collaborative knowledge graph, with
item messages learned in closed form, so every score splits exactly into per-interaction parts."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.graph import INTERACTION_KEY, EdgeKey, GraphColumns
from kgrec.engine.data.histories import Histories, histories_from_columns
from kgrec.engine.data.split import interaction_matrix, temporal_split
from kgrec.engine.models.base import ChannelParts, FitData, Recommender
from kgrec.engine.models.ease import ease_from_gram, gram_matrix
from kgrec.engine.models import sparse_kernels
from kgrec.engine.models.item_item import ItemWeights, neighbourhood_ease, sparse_gram_matrix
from kgrec.engine.models.options import UnknownOptionError
from kgrec.graph_schema import ITEM, USER
from kgrec.progress import progress_bar

log = logging.getLogger(__name__)

#: knowledge links named per piece of evidence: the strongest, which an explanation shows when it
#: carries more than the collaborative part (or a quarter of the contribution, as a second path)
LINKS_KEPT = 1

#: the catalogue size up to which ``item_item=auto`` solves :math:`B` densely: exact EASE, and
#: its factorisations are a small part of training there; beyond it their cubic cost dominates,
#: and the neighbourhood solve ranks as well on real ratings (bench/bench_sparse_item_item.py)
DENSE_ITEMS_MAX = 10_000
ITEM_ITEM_SOLVES = ("auto", "dense", "neighbourhood")


@dataclass
class ItemGraphAttentionConfig:
    """The options of :class:`ItemGraphAttention`.

    Attributes:
        lambdas: item-item penalties tried on the validation split (the middle one is also
            the penalty of the inner fit the attention learns on: :attr:`inner_lambda`).
        knowledge_shares: scales of the learned relation weights tried on the validation split:
            the inner objective learns how the relations compare, validation decides how much
            knowledge the ranking takes.
        inner_holdout: share of each user's latest training interactions the attention learns
            to predict.
        steps: Adam steps of learning the attention.
        users_per_step: users in each step's batch.
        negatives: popular items, and as many random ones, each step's softmax ranks the
            targets against.
        dim: size of the embeddings written back (a rank-``dim`` factorisation of the whole
            item messages).
        taus, floors: fadings (``tau``) and floors tried on the validation split beside the
            learned ones, every pair with the learned values included, at each penalty's best
            knowledge share: the attention is learned on a sampled-softmax proxy, and validation
            NDCG is what the ranking is judged by (the recency-weighted EASE baseline's grid, its
            floor 0 left out: the floor is a logit here). Empty: keep the learned shape.
        item_item: how :math:`B` is solved: ``dense`` (one items x items factorisation per
            penalty, exact EASE), ``neighbourhood`` (each item's column on its :attr:`neighbours`
            strongest partners, :func:`~kgrec.engine.models.item_item.neighbourhood_ease`),
            or ``auto``: dense up to :data:`DENSE_ITEMS_MAX` items, neighbourhood beyond.
        neighbours: partners per item of the neighbourhood solve.
    """

    lambdas: tuple[float, ...] = (100.0, 300.0, 1000.0)
    knowledge_shares: tuple[float, ...] = (0.01, 0.1, 1.0)
    inner_holdout: float = 0.1
    steps: int = 80
    users_per_step: int = 128
    negatives: int = 512
    dim: int = 256
    taus: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0)
    floors: tuple[float, ...] = (0.01, 0.05, 0.2)
    item_item: str = "auto"
    neighbours: int = 128

    def __post_init__(self) -> None:
        if self.item_item not in ITEM_ITEM_SOLVES:
            raise UnknownOptionError(f"item_item={self.item_item!r}: use one of {', '.join(ITEM_ITEM_SOLVES)}")
        if self.neighbours < 1:
            raise UnknownOptionError(f"neighbours={self.neighbours}: must be at least 1")

    def neighbourhood(self, n_items: int) -> bool:
        """Whether :math:`B` of a catalogue of ``n_items`` is solved per neighbourhood."""
        return self.item_item == "neighbourhood" or (self.item_item == "auto" and n_items > DENSE_ITEMS_MAX)

    @property
    def inner_lambda(self) -> float:
        """The item-item penalty of the inner fit the attention learns on: the middle of :attr:`lambdas`."""
        return self.lambdas[len(self.lambdas) // 2]


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
    :attr:`~ItemGraphAttentionConfig.inner_holdout` of their training interactions from the earlier
    ones, with :math:`B` fitted on the earlier ones only. :math:`B`'s penalty
    (:attr:`~ItemGraphAttentionConfig.lambdas`) and a common scale of the :math:`\gamma_r`
    (:attr:`~ItemGraphAttentionConfig.knowledge_shares`) are then chosen on the validation split, and
    :math:`B` is refitted on every interaction the model will score
    from. Past :data:`DENSE_ITEMS_MAX` items each column of :math:`B` is solved on the item's
    strongest partners (:attr:`~ItemGraphAttentionConfig.item_item`), with no items x items
    factorisation, from the sparse co-occurrence counts; :math:`B` is then held sparse and the
    knowledge part stays in its sparse links (no whole messages), so nothing grows with the
    square of the catalogue.
    """

    name = "attention"
    options_class = ItemGraphAttentionConfig
    has_attention = True
    folds_in = True
    #: every item's whole message, B plus the knowledge part, dense: set by :meth:`fit` (and
    #: for each point of its grid) when B is dense, not saved, so a loaded model, and one with a
    #: sparse B, scores through the sparse links
    _messages: torch.Tensor | None = None

    def fit(self, data: FitData) -> "ItemGraphAttention":
        r"""Learn the attention on an inner split, choose :math:`\lambda` and the knowledge share on
        ``data.validate``, refit :math:`B` on ``data.refit``. Seconds per phase are kept in
        :attr:`timings` (``bench/bench_train.py`` reports them)."""
        self.timings: dict[str, float | list[float]] = {"factorisations": [], "validations": []}
        generator = torch.Generator().manual_seed(self.config.seed)
        with self._timed("knowledge_graph"):
            self._graph(data.columns)
        inner = temporal_split(data.columns, test_fraction=self.options.inner_holdout, val_fraction=0.0)
        inputs = inner.fit_columns(data.columns, inner.train)
        self.theta = _initial_theta(len(self.relations)).to(self.device)
        self._messages = None
        self.weights = next(self._item_item(interaction_matrix(inputs), (self.options.inner_lambda,)))
        history = histories_from_columns(data.columns, inner.train)
        targets = inner.matrix(inner.test)
        with self._timed("attention_steps"):
            self._learn_attention(history, targets, generator, data.progress)
        learned = self.theta.clone()
        shapes = _shapes(learned, self.options.taus, self.options.floors)
        best = (self.options.inner_lambda, 1.0, shapes[0])
        if data.validate:
            shares = self.options.knowledge_shares if self.relations else (1.0,)
            scores = {}
            solves = self._item_item(interaction_matrix(data.columns), self.options.lambdas)
            # a unit of this bar is one factorisation, one validation or one search of shapes
            searches = len(shapes) > 1
            with progress_bar(desc="attention: choosing lambda, knowledge share and shape",
                              total=len(self.options.lambdas) * (1 + len(shares) + searches), unit="steps",
                              enabled=data.progress) as bar:
                for lambda_reg in self.options.lambdas:
                    # free the previous B and messages before the next factorisation
                    self.weights = self._messages = knowledge = None
                    self.weights = next(solves)
                    if not self.weights.sparse:
                        with self._timed("knowledge_messages"):
                            knowledge = self._knowledge_messages(learned)
                    bar.update()
                    for share in shares:
                        self._messages = self._combined(knowledge, share, into=self._messages)
                        scores[lambda_reg, share, shapes[0]] = self._validate(data, learned, lambda_reg, share, shapes[0])
                        bar.update()
                    if searches:
                        # a coordinate search: the share with the learned shape, then the shape at that share
                        share = max(shares, key=lambda share: scores[lambda_reg, share, shapes[0]])
                        self._messages = self._combined(knowledge, share, into=self._messages)
                        for shape in shapes[1:]:
                            scores[lambda_reg, share, shape] = self._validate(data, learned, lambda_reg, share, shape)
                        bar.update()
            del solves, knowledge
            best = max(scores, key=scores.get)
        self.theta = _with_shape(_with_knowledge_share(learned, best[1]), *best[2])
        self.weights = self._messages = None
        self.weights = next(self._item_item(interaction_matrix(data.refit or data.columns), (best[0],)))
        if not self.weights.sparse:
            with self._timed("knowledge_messages"):
                knowledge = self._knowledge_messages(self.theta)
                self._messages = self._combined(knowledge, 1.0, into=knowledge)
        self._factored = None
        self.params = {"lambda": best[0], "knowledge_share": best[1], "learned_shape": list(shapes[0]),
                       "item_item_solve": "neighbourhood" if self.weights.sparse else "dense",
                       **self.attention_parameters(),
                       **({"val_ndcg@20": scores[best]} if data.validate else {}),
                       "loss_curve": getattr(self, "loss_curve", [])}
        log.info("attention model: lambda %g, knowledge share %g, %s", *best[:2],
                 ", ".join(f"{k} {v:.3g}" for k, v in self.attention_parameters().items()))
        log.debug("attention model: seconds per phase %s", self.timings)
        return self

    def _validate(self, data: FitData, learned: torch.Tensor, lambda_reg: float, share: float,
                  shape: tuple[float, float]) -> float:
        """Validation NDCG@20 of the current messages with the ``learned`` attention at knowledge
        ``share`` and fading/floor ``shape``."""
        self.theta = _with_shape(_with_knowledge_share(learned, share), *shape)
        with self._timed("validations"):
            score = data.validate(self)
        log.debug("attention model: lambda %g, knowledge share %g, tau %.3g, floor %.3g: validation NDCG@20 %.4f",
                  lambda_reg, share, *shape, score)
        return score

    def _item_item(self, matrix: sp.csr_matrix, lambdas: Sequence[float]) -> Iterator[ItemWeights]:
        """:math:`B` for each of ``lambdas`` in turn, from the interactions ``matrix``; the seconds
        go to :attr:`timings` (``gram``, ``factorisations``: one per penalty when dense, one for
        all of them per neighbourhood solve, which reads the partners' counts once).

        Dense: one factorisation per penalty, each made when the previous :math:`B` is let go
        (one items x items matrix of weights at a time). Neighbourhood: all at once, each sparse."""
        if self.options.neighbourhood(matrix.shape[1]):
            with self._timed("gram"):
                gram = sparse_gram_matrix(matrix)
            with self._timed("factorisations"):
                solved = neighbourhood_ease(gram, lambdas, self.options.neighbours)
            del gram
            for weights in solved:
                yield ItemWeights(weights)
            return
        with self._timed("gram"):
            gram = gram_matrix(matrix, self.device)
        for lambda_reg in lambdas:
            with self._timed("factorisations"):
                weights = ease_from_gram(gram, lambda_reg)
            yield ItemWeights(weights)
            del weights  # before the next factorisation

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        """Add the block's wall seconds to ``timings[phase]`` (appended when it is a list), and
        the process's CPU seconds to ``timings["cpu"][phase]`` (on a shared machine, the wall
        time says as much about the neighbours as about the work)."""
        started, started_cpu = time.perf_counter(), time.process_time()
        yield
        seconds, cpu = round(time.perf_counter() - started, 3), round(time.process_time() - started_cpu, 3)
        cpu_timings = self.timings.setdefault("cpu", {})
        if isinstance(self.timings.get(phase), list):
            self.timings[phase].append(seconds)
            cpu_timings.setdefault(phase, []).append(cpu)
        else:
            self.timings[phase] = self.timings.get(phase, 0.0) + seconds
            cpu_timings[phase] = cpu_timings.get(phase, 0.0) + cpu

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
        relations, links, entity_ids = [], [], []
        for key in sorted(columns.edges):
            head, _, tail = key
            if key == INTERACTION_KEY or USER in (head, tail) or (head == ITEM) == (tail == ITEM):
                continue
            item_end, entity_end = (0, 1) if head == ITEM else (1, 0)
            ends = columns.edges[key]
            relations.append(key)
            entities = columns.node_ids[tail if head == ITEM else head]
            links.append((np.asarray(ends[item_end], np.int64), np.asarray(ends[entity_end], np.int64), len(entities)))
            entity_ids.append(np.asarray(entities, dtype=object))
        self._set_links(relations, links, len(columns.node_ids[ITEM]), entity_ids)

    def _set_links(self, relations: list[EdgeKey], links: list[tuple[np.ndarray, np.ndarray, int]],
                   n_items: int, entity_ids: list[np.ndarray] | None) -> None:
        """Each relation's (item, entity) links as a sparse :class:`_TwoHop` (the
        item-entity-item propagation of relation ``r``), on the configured device, and as the
        two sparse factors :meth:`channels` splits a contribution with."""
        self.device = self.config.resolved_device()
        self.relations = list(relations)
        self.entity_ids = entity_ids
        self.hops: list[_TwoHop] = []
        self._links = []
        self._link_factors: list[tuple[sp.csr_matrix, sp.csr_matrix]] = []
        for items, entities, n_entities in links:
            matrix = sp.csr_matrix((np.ones(len(items), np.float32), (items, entities)), shape=(n_items, n_entities))
            matrix.data[:] = 1.0
            item_degree = np.asarray(matrix.sum(1)).ravel()
            entity_degree = np.asarray(matrix.sum(0)).ravel()
            item_norm = 1.0 / np.sqrt(np.maximum(item_degree, 1.0))
            self.hops.append(_TwoHop(matrix, item_norm, entity_degree, self.device))
            self._links.append((items, entities, item_norm, entity_degree, n_entities))
            right = sp.diags(item_norm) @ matrix
            self._link_factors.append(((right @ sp.diags(1.0 / np.maximum(entity_degree, 1.0))).tocsr(), right.tocsr()))

    # -- scoring ---------------------------------------------------------------------------

    def _alpha(self, histories: Histories, theta: torch.Tensor) -> torch.Tensor:
        """:math:`\\alpha` of every interaction of ``histories`` (softmax per row)."""
        device = theta.device
        rows = torch.from_numpy(histories.row_of()).to(device)
        recency = torch.from_numpy(histories.recency.astype(np.float32)).to(device)
        relation = torch.from_numpy(interaction_relation(histories)).to(device)
        tau, floor = theta[0].exp(), torch.sigmoid(theta[1])
        bias = torch.stack([theta.new_zeros(()), theta[2], theta[3]])
        logits = torch.log(floor + torch.exp(-recency / tau)) + bias[relation]
        n_rows = len(histories)
        peak = torch.full((n_rows,), -torch.inf, device=device).scatter_reduce(0, rows, logits.detach(), "amax")
        weights = torch.exp(logits - peak[rows])
        total = torch.zeros(n_rows, device=device).index_add(0, rows, weights)
        return weights / total[rows]

    def _scores(self, histories: Histories, theta: torch.Tensor, columns: torch.Tensor | None = None,
                messages: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of every item, or only of the items ``columns`` (in that order, with gradients
        to ``theta``), on the model's device.

        Every item: one sparse (users x items) x dense :math:`B` product, or x ``messages``
        (every item's whole message for ``theta``, :meth:`_combined`) with nothing to add. Some
        items (the sampled softmax of :meth:`_learn_attention`): only the rows of :math:`B` the
        histories use, at the columns asked for, summed per user, so that the cost and the
        gradient follow the interactions, not the catalogue."""
        alpha = self._alpha(histories, theta)
        rows = torch.from_numpy(histories.row_of()).to(self.device)
        items = torch.from_numpy(histories.items).to(self.device)
        n_rows = len(histories)
        if columns is None:
            if messages is not None:
                return ItemWeights(messages).product(rows, items, alpha, n_rows)
            scores = self.weights.product(rows, items, alpha, n_rows)
            if scores.device.type == "cpu" and not alpha.requires_grad:  # compiled, row by row
                for gamma, hop in zip(theta[5:].exp().tolist(), self.hops):
                    weighted = sp.csr_matrix(((gamma * alpha).numpy(), (rows.numpy(), items.numpy())),
                                             shape=(n_rows, scores.shape[1]))
                    hop.add_all(scores.numpy(), weighted)
                return scores
            knowledge = None  # items x users: the sparse products give it in this layout, added once
            for gamma, hop in zip(theta[5:].exp(), self.hops):
                knowledge = hop.spread_all(gamma * hop.gather(alpha, rows, items, n_rows), knowledge)
            if knowledge is not None:
                scores.add_(knowledge.T)
        else:
            scores = torch.zeros(n_rows, len(columns), device=self.device).index_add(
                0, rows, alpha[:, None] * self.weights.block(items, columns))
            for gamma, hop in zip(theta[5:].exp(), self.hops):
                scores = scores + gamma * hop.spread(hop.gather(alpha, rows, items, n_rows), columns)
        return scores

    @torch.no_grad()
    def score(self, histories: Histories) -> torch.Tensor:
        """Scores of every item. A fitted model holds every item's whole message as one dense
        matrix (:meth:`_combined`), so scoring is one sparse x dense product: evaluation and the
        write-back score every user, and the knowledge part computed per batch of users cost
        twice the collaborative part. A loaded model (the API folds in one user at a time)
        keeps the sparse knowledge product and no second items x items matrix."""
        if len(histories.items) == 0:
            return torch.zeros(len(histories), histories.num_items)
        return self._scores(histories, self.theta, messages=self._messages).cpu()

    def _knowledge_messages(self, theta: torch.Tensor, items_per_block: int = 2048) -> torch.Tensor | None:
        r"""The knowledge part of every item's message as a dense (items x items) matrix,
        :math:`K = \sum_r \gamma_r K_r`; None without knowledge relations.

        Each :math:`K_r` is symmetric (both ends of a two-hop path carry :math:`1/\sqrt{d_r}`), so
        the product over a block of items fills the block's columns; blocks bound the (items x
        entities) gather to ``items_per_block`` rows."""
        if not self.hops:
            return None
        n_items = self.weights.n_items
        total = torch.zeros(n_items, n_items, device=self.device)
        for gamma, hop in zip(theta[5:].exp(), self.hops):
            for start in range(0, n_items, items_per_block):
                block = torch.arange(start, min(start + items_per_block, n_items), device=self.device)
                each = torch.arange(len(block), device=self.device)
                total[:, start:start + len(block)] += hop.spread_all(hop.gather(gamma.expand(len(block)), each, block,
                                                                                 len(block)))
        return total

    def _combined(self, knowledge: torch.Tensor | None, share: float,
                  into: torch.Tensor | None = None) -> torch.Tensor | None:
        r"""Every item's whole message, :math:`M = B + \mathit{share} \cdot K`, written into
        ``into`` when given (the grid reuses one buffer); :math:`B` itself without knowledge.
        None for a sparse :math:`B`, which scores through the sparse links instead: the whole
        messages of a large catalogue are items x items dense."""
        if self.weights.sparse:
            return None
        if knowledge is None:
            return self.weights.matrix
        return torch.add(self.weights.matrix, knowledge, alpha=share, out=into)

    @torch.no_grad()
    def contributions(self, histories: Histories, targets: np.ndarray) -> np.ndarray:
        alpha = self._alpha(histories, self.theta)
        items = torch.from_numpy(histories.items).to(self.device)
        wanted = torch.from_numpy(np.asarray(targets, np.int64)[histories.row_of()]).to(self.device)
        if self._messages is not None:
            return (alpha[:, None] * self._messages[items[:, None], wanted]).cpu().numpy()
        # each interaction's message to its own row's targets only, pair by pair: never whole
        # rows (a long history's are 100s of MB), nor the batch's every interaction x target
        evidence = np.repeat(histories.items, wanted.shape[1])
        target = wanted.cpu().numpy().ravel()
        messages = self.weights.pairs(evidence, target)
        for links in self._shared_links(evidence, target):
            messages += np.asarray(links.sum(axis=1)).ravel()
        return (alpha.cpu().numpy()[:, None] * messages.reshape(wanted.shape)).astype(np.float32)

    def _shared_links(self, evidence: np.ndarray, target: np.ndarray) -> list[sp.csr_matrix]:
        r"""Per knowledge relation :math:`r`, (pairs x entities): for each pair of an ``evidence``
        item :math:`i` and a ``target`` item :math:`j`, the message part
        :math:`\gamma_r / (\sqrt{d_r(i)}\, d(e)\, \sqrt{d_r(j)})` of every entity :math:`e` both
        link to; a pair's knowledge message is the sum of its rows."""
        return [gamma * left[evidence].multiply(right[target])
                for gamma, (left, right) in zip(self.theta[5:].exp().tolist(), self._link_factors)]

    @torch.no_grad()
    def channels(self, histories: Histories, targets: np.ndarray, interactions: np.ndarray,
                 links: int = LINKS_KEPT) -> ChannelParts:
        r"""The contribution :math:`\alpha_{ui} m_{ij}` of each evidence interaction split exactly:
        the collaborative part :math:`\alpha_{ui} B_{ij}`, and per knowledge link :math:`(r, e)`
        shared by :math:`i` and :math:`j` the part :math:`\alpha_{ui}\,\gamma_r\,
        \frac{1}{\sqrt{d_r(i)}\, d(e)\, \sqrt{d_r(j)}}`, whose sum over links is the knowledge
        part. The ``links`` strongest links are named."""
        shape = interactions.shape
        present = (interactions >= 0).ravel()
        flat = np.where(present, interactions.ravel(), 0)
        target = np.broadcast_to(np.maximum(targets, 0)[..., None], shape).ravel().copy()
        alpha = self._alpha(histories, self.theta).cpu().numpy().astype(np.float64)[flat] * present
        evidence = histories.items[flat]
        collaborative = alpha * self.weights.pairs(evidence, target)
        n, n_links = len(flat), links
        link_relation = np.full((n, n_links), -1, np.int64)
        link_entity = np.full((n, n_links), -1, np.int64)
        link_part = np.zeros((n, n_links))
        knowledge = np.zeros(n)
        if self._link_factors:
            blocks = [sp.diags(alpha) @ links for links in self._shared_links(evidence, target)]
            relation_of = np.concatenate([np.full(left.shape[1], r) for r, (left, _) in enumerate(self._link_factors)])
            entity_of = np.concatenate([np.arange(left.shape[1]) for left, _ in self._link_factors])
            parts = sp.hstack(blocks, format="csr")
            parts.eliminate_zeros()
            knowledge = np.asarray(parts.sum(1)).ravel()
            rows = np.repeat(np.arange(n), np.diff(parts.indptr))
            order = np.lexsort((-parts.data, rows))
            rank = np.arange(len(order)) - np.searchsorted(rows[order], rows[order])
            kept = order[rank < n_links]
            place = (rows[kept], rank[rank < n_links])
            link_relation[place] = relation_of[parts.indices[kept]]
            link_entity[place] = entity_of[parts.indices[kept]]
            link_part[place] = parts.data[kept]
        return ChannelParts(collaborative=collaborative.reshape(shape), knowledge=knowledge.reshape(shape),
                            link_relation=link_relation.reshape(*shape, n_links),
                            link_entity=link_entity.reshape(*shape, n_links),
                            link_part=link_part.reshape(*shape, n_links),
                            relation_types=[rel for _, rel, _ in self.relations], entity_ids=self.entity_ids)

    # -- learning the attention ------------------------------------------------------------------

    def _learn_attention(self, history: Histories, targets: sp.csr_matrix, generator: torch.Generator,
                         progress: bool = True) -> None:
        users = np.flatnonzero((np.diff(targets.indptr) > 0) & (np.diff(history.indptr) > 0))
        if len(users) == 0:
            return
        theta = self.theta.clone().requires_grad_(True)
        with torch.no_grad():
            sample = history.select(users[:self.options.users_per_step])
            theta[4] = torch.log(self._scores(sample, theta).std().clamp(min=1e-8))
        optimizer = torch.optim.Adam([theta], lr=0.05)
        curve = []
        n_items = history.num_items
        popular = torch.from_numpy(np.argsort(-np.asarray(history.binary().sum(0)).ravel(), kind="stable")[:self.options.negatives])
        # the random draws stay on the CPU generator, so every device learns from the same batches
        for step in progress_bar(range(self.options.steps), desc="attention: learning", unit="steps", enabled=progress):
            pick = users[torch.randperm(len(users), generator=generator)[:self.options.users_per_step].numpy()]
            batch = history.select(pick)
            wanted = targets[pick]
            # a sampled softmax: the batch's targets against the `negatives` most popular items (the
            # hard competitors) and as many random ones; the full softmax costs a pass over the
            # whole catalogue per step, for a handful of parameters
            others = torch.cat([popular, torch.randint(0, n_items, (self.options.negatives,), generator=generator)])
            candidates, position = torch.unique(torch.cat([torch.from_numpy(wanted.indices.astype(np.int64)), others]),
                                                return_inverse=True)
            logits = self._scores(batch, theta, candidates.to(self.device)) / theta[4].exp()
            seen = np.zeros((len(pick), n_items), bool)
            seen[batch.row_of(), batch.items] = True
            logits = logits.masked_fill(torch.from_numpy(seen[:, candidates.numpy()]).to(self.device), -torch.inf)
            rows = torch.from_numpy(np.repeat(np.arange(len(pick)), np.diff(wanted.indptr))).to(self.device)
            log_p = logits[rows, position[:len(rows)].to(self.device)] - torch.logsumexp(logits, 1)[rows]
            loss = -log_p.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 20 == 0 or step == self.options.steps - 1:
                curve.append(round(loss.item(), 4))
        self.theta = theta.detach()
        self.loss_curve = curve

    # -- what is written back --------------------------------------------------------------

    @torch.no_grad()
    def attention(self, columns: GraphColumns, histories: Histories) -> dict[EdgeKey, np.ndarray]:
        interacted = np.zeros(len(columns.edges[INTERACTION_KEY][0]), np.float32)
        known = histories.edges >= 0
        interacted[histories.edges[known]] = self._alpha(histories, self.theta).cpu().numpy()[known]
        result = {INTERACTION_KEY: interacted}
        gammas = self.theta[5:].exp().cpu().numpy()
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
        r"""Vectors whose dot products approximate the scores: a rank-``dim`` factorisation of the
        whole item messages (collaborative and knowledge parts), :math:`M \approx P Q^\top`.
        Item :math:`j` is :math:`Q_j` (what its score column is made of); a user is
        :math:`\sum_i \alpha_{ui} P_i`, so that its dot product with :math:`Q_j` approximates
        :math:`\hat y(u, j) = \sum_i \alpha_{ui} m_{ij}`."""
        sources, targets = self._factors()
        alpha = self._alpha(histories, self.theta)
        rows = torch.from_numpy(histories.row_of()).to(self.device)
        items = torch.from_numpy(histories.items).to(self.device)
        users = torch.zeros(len(histories), sources.shape[1], device=self.device).index_add(
            0, rows, alpha[:, None] * sources[items])
        return {ITEM: targets.cpu().numpy(), USER: users.cpu().numpy()}

    def item_messages(self) -> np.ndarray:
        r""":math:`P_i`: item :math:`i`'s message :math:`m_{ij}` to item :math:`j` is approximately
        its dot product with :math:`j`'s embedding (it is the embedding of a user whose one
        interaction is :math:`i`, with attention 1)."""
        sources, _ = self._factors()
        return sources.cpu().numpy()

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`(P, Q)` of the whole item messages, computed once per fitted model and saved
        with it: a user folded in later gets an embedding in the same space as the ones written
        back, without rebuilding the messages."""
        if getattr(self, "_factored", None) is None:
            generator = torch.Generator().manual_seed(self.config.seed)
            u, s, v = _randomized_svd(self._message_product, self.weights.n_items,
                                      min(self.options.dim, self.weights.n_items), generator, self.device)
            self._factored = (u * s, v)
        return self._factored

    def _message_product(self, dense: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        r""":math:`M X` (or :math:`M^\top X`) of the whole item messages :math:`M = B + K` and a
        dense (items x q) :math:`X`, without forming :math:`M` when it is not held: the knowledge
        part is :math:`\sum_r \gamma_r L_r R_r^\top X` through the sparse link factors, and it
        is symmetric."""
        if self._messages is not None:
            return (self._messages.T if transpose else self._messages) @ dense
        product = self.weights.matmul(dense, transpose)
        values = dense.cpu().numpy()
        for gamma, (left, right) in zip(self.theta[5:].exp().tolist(), self._link_factors):
            product += gamma * torch.from_numpy(np.asarray(left @ (right.T @ values), np.float32)).to(product.device)
        return product

    # -- items added after training ---------------------------------------------------------

    def known_links(self, links: Sequence[tuple[EdgeKey, str]]) -> list[tuple[int, int]]:
        """The (relation index, entity index) of each of ``links`` (relation key, entity id)
        that joins an item to an entity this model was trained with; the others are left out."""
        if self.entity_ids is None:
            return []
        relation_of = {key: r for r, key in enumerate(self.relations)}
        known = []
        for key, entity in links:
            r = relation_of.get(key)
            if r is not None:
                found = np.flatnonzero(self.entity_ids[r] == entity)
                known += [(r, int(found[0]))] if len(found) else []
        return known

    @torch.no_grad()
    def add_items(self, links: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray]:
        r"""Items created after training join the model from their knowledge links alone: item
        ``k`` of ``links`` becomes item ``n + k`` (``n`` the items the model had), linked to the
        (relation index, entity index) pairs it lists, entities the model knows.

        A new item has no collaborative weights yet (its row and column of :math:`B` are 0), so
        its message, and every score of it, is its knowledge part: the two-hop propagation
        through its entities with the learned :math:`\gamma_r`, as the next training would
        compute it (the entities' degrees count the new links). Every score therefore stays an
        exact sum of per-interaction contributions, and a new item's evidence goes through its
        links. Its embedding is the least-squares fit of its score column in the saved
        factorisation, its message vector the projection of its message row onto it; both are
        returned, (new items x dim) each.
        """
        n_items, new = self.weights.n_items, len(links)
        extended = []
        for r, (items, entities, _, _, n_entities) in enumerate(self._links):
            added = [(n_items + k, entity) for k, item_links in enumerate(links)
                     for relation, entity in item_links if relation == r]
            extended.append((np.concatenate([items, np.array([i for i, _ in added], np.int64)]),
                             np.concatenate([entities, np.array([e for _, e in added], np.int64)]), n_entities))
        sources, targets = self._factors()
        self.weights = self.weights.padded(new)
        self._messages = None
        self._set_links(self.relations, extended, n_items + new, self.entity_ids)
        block = torch.arange(n_items, n_items + new, device=self.device)
        each = torch.arange(new, device=self.device)
        # the new items' knowledge columns, which are also their rows (each two-hop term is symmetric)
        columns = sum(hop.spread_all(hop.gather(gamma.expand(new), each, block, new))
                      for gamma, hop in zip(self.theta[5:].exp(), self.hops))
        embedded = torch.linalg.lstsq(sources, columns[:n_items]).solution.T
        messages = columns[:n_items].T @ targets
        self._factored = (torch.cat([sources, messages]), torch.cat([targets, embedded]))
        return embedded.cpu().numpy(), messages.cpu().numpy()

    # -- persistence -----------------------------------------------------------------------

    def state(self) -> dict:
        """The item side whole (weights, attention parameters, knowledge links, the factors of
        the embeddings), so the model scores and embeds any history without the graph it was
        trained on."""
        return {"weights": self.weights.state(), "theta": self.theta, "params": self.params,
                "factors": list(self._factors()),
                "relations": [list(key) for key in self.relations],
                "links": [[torch.from_numpy(items), torch.from_numpy(entities), n_entities]
                          for items, entities, _, _, n_entities in self._links],
                "entity_ids": None if self.entity_ids is None else [[str(e) for e in ids] for ids in self.entity_ids]}

    def load_state(self, state: dict, columns: GraphColumns | None) -> "ItemGraphAttention":
        self.weights, self.theta, self.params = ItemWeights.from_state(state["weights"]), state["theta"], state["params"]
        self._set_links([tuple(key) for key in state["relations"]],
                        [(items.numpy(), entities.numpy(), int(n)) for items, entities, n in state["links"]],
                        self.weights.n_items,
                        # checkpoints written before explanations named their entities have none
                        None if state.get("entity_ids") is None else [np.asarray(ids, dtype=object)
                                                                       for ids in state["entity_ids"]])
        self._messages = None
        # checkpoints written before the embeddings factorised the whole messages have none
        self._factored = None if state.get("factors") is None else tuple(state["factors"])
        return self


class _TwoHop:
    r"""One knowledge relation's item -> entity -> item propagation, kept sparse.

    With :math:`L` the (items x entities) links of relation :math:`r`, the two factors of the
    model's knowledge message are ``left`` :math:`= D_i^{-1/2} L D_e^{-1}` and ``right``
    :math:`= (D_i^{-1/2} L)^\top`. An item has a few links (a creator, a few tags and genres),
    so both are stored as the links themselves: :meth:`gather` sums rows of ``left`` weighted
    per interaction, :meth:`spread` and :meth:`spread_all` multiply by ``right``. As dense matrices they cost
    items x entities each, and a product with ``right`` over every item cost as much as with
    :math:`B` itself (thousands of creators at a million interactions).
    """

    def __init__(self, links: sp.csr_matrix, item_norm: np.ndarray, entity_degree: np.ndarray, device: torch.device):
        n_items, self.n_entities = links.shape
        item = np.repeat(np.arange(n_items), np.diff(links.indptr))
        self.indptr = torch.from_numpy(links.indptr.astype(np.int64)).to(device)
        self.entity = torch.from_numpy(links.indices.astype(np.int64)).to(device)
        self.left = torch.from_numpy((item_norm[item] / np.maximum(entity_degree[links.indices], 1.0)).astype(np.float32)).to(device)
        self.right = torch.from_numpy(item_norm[item].astype(np.float32)).to(device)
        # right transposed, (items x entities), for the product over every item
        self.right_t = torch.sparse_coo_tensor(torch.stack([torch.from_numpy(item).to(device), self.entity]), self.right,
                                               (n_items, self.n_entities), check_invariants=False).coalesce()
        # the same links on the CPU, by item and by entity, for the compiled product (add_all)
        by_entity = np.argsort(links.indices, kind="stable")
        self._by_item = (links.indptr, links.indices, self.left.cpu().numpy())
        self._by_entity = (np.concatenate([[0], np.cumsum(np.bincount(links.indices, minlength=self.n_entities))]),
                           item[by_entity], self.right.cpu().numpy()[by_entity])

    def _links_of(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For every link of every item of ``items`` (duplicates included): the position in
        ``items`` it belongs to, and the link's index."""
        starts, counts = self.indptr[items], self.indptr[items + 1] - self.indptr[items]
        owner = torch.repeat_interleave(torch.arange(len(items), device=items.device), counts)
        first = torch.cumsum(counts, 0) - counts
        link = starts[owner] + torch.arange(len(owner), device=items.device) - first[owner]
        return owner, link

    def gather(self, values: torch.Tensor, rows: torch.Tensor, items: torch.Tensor, n_rows: int) -> torch.Tensor:
        r"""(n_rows x entities): row ``b`` is :math:`\sum_k values_k\, left[items_k]` over the
        interactions ``k`` with ``rows[k] == b``."""
        owner, link = self._links_of(items)
        flat = rows[owner] * self.n_entities + self.entity[link]
        return torch.zeros(n_rows * self.n_entities, device=values.device).index_add(
            0, flat, values[owner] * self.left[link]).view(n_rows, self.n_entities)

    def spread(self, entities: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """``entities @ right[:, columns]``: (rows x len(columns))."""
        owner, link = self._links_of(columns)
        return torch.zeros(entities.shape[0], len(columns), device=entities.device).index_add(
            1, owner, entities[:, self.entity[link]] * self.right[link])

    def add_all(self, scores: np.ndarray, weighted: sp.csr_matrix) -> None:
        """``scores += (weighted @ left) @ right`` over every item, in place, for a CSR
        ``weighted`` (rows x items) and dense CPU ``scores`` (rows x items): :meth:`gather` and
        :meth:`spread_all` in one compiled pass that touches only each row's entities."""
        sparse_kernels.use_threads(torch.get_num_threads())
        sparse_kernels.rows_through_entities(weighted.indptr, weighted.indices, weighted.data, *self._by_item,
                                             *self._by_entity, scores)

    def spread_all(self, entities: torch.Tensor, into: torch.Tensor | None = None) -> torch.Tensor:
        """``(entities @ right)`` over every item, transposed (items x rows), added to ``into``
        when given: the sparse x dense product's own layout, so that several relations add up
        without a strided pass each (adding a transposed matrix costs several plain additions)."""
        if into is None:
            return torch.sparse.mm(self.right_t, entities.T.contiguous())
        return torch.sparse.addmm(into, self.right_t, entities.T.contiguous())


def _randomized_svd(product: Callable[[torch.Tensor, bool], torch.Tensor], n: int, rank: int,
                    generator: torch.Generator, device: torch.device | str = "cpu",
                    power_iterations: int = 4) -> tuple[torch.Tensor, ...]:
    r"""The leading ``rank`` singular triplets :math:`(U, S, V)` of a square ``n`` x ``n`` matrix
    known only by its products with dense matrices (``product(X, transpose)``): the randomized
    range finder with power iterations (Halko, Martinsson and Tropp, 2011) of
    :func:`torch.svd_lowrank`, which needs the matrix itself."""
    def basis(matrix: torch.Tensor) -> torch.Tensor:
        return torch.linalg.qr(matrix).Q

    q = basis(product(torch.randn(n, rank, generator=generator).to(device), False))
    for _ in range(power_iterations):
        q = basis(product(basis(product(q, True)), False))
    u, s, vh = torch.linalg.svd(product(q, True).T, full_matrices=False)
    return q @ u, s, vh.T


def _with_knowledge_share(theta: torch.Tensor, share: float) -> torch.Tensor:
    r"""``theta`` with every relation weight :math:`\gamma_r` multiplied by ``share``."""
    scaled = theta.clone()
    scaled[5:] += math.log(share)
    return scaled


def _shapes(theta: torch.Tensor, taus: tuple[float, ...], floors: tuple[float, ...]) -> list[tuple[float, float]]:
    """The (fading, floor) pairs validation chooses among, the learned pair of ``theta`` first."""
    learned = (float(theta[0].exp()), float(torch.sigmoid(theta[1])))
    pairs = [(tau, floor) for tau in (learned[0], *taus) for floor in (learned[1], *floors)]
    return list(dict.fromkeys(pairs))


def _with_shape(theta: torch.Tensor, tau: float, floor: float) -> torch.Tensor:
    r"""``theta`` with the fading :math:`\tau` and the floor :math:`\phi` set."""
    shaped = theta.clone()
    shaped[0] = math.log(tau)
    shaped[1] = math.log(floor / (1.0 - floor))
    return shaped


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
