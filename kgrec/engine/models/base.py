"""The one interface every recommender implements, and what it is fitted on.

Training, evaluation, explanations, write-back and persistence talk to :class:`Recommender`
only, never to a concrete class; a model says what it can do by what it returns (no attention
to write back: ``attention`` returns None), not by its type. A new model is one file plus one
line in :data:`kgrec.engine.models.MODELS`.

A model's hyper-parameters are a dataclass of its own (:attr:`Recommender.options_class`),
passed to its constructor with the run's :class:`TrainConfig`, as PyG models take their
arguments; :func:`create` builds both from the registry name and ``name -> value`` options.

Example:
    >>> model = create("ease", TrainConfig(), {"lambdas": "100,200"})  # doctest: +SKIP
    >>> model.fit(FitData(train_columns, validate=None, refit=None))  # doctest: +SKIP
    >>> scores = model.score(histories_from_columns(train_columns, users=np.array([0, 1])))  # doctest: +SKIP
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch

from kgrec.engine.data.graph import EdgeKey, GraphColumns
from kgrec.engine.data.histories import Histories
from kgrec.engine.data.split import interaction_matrix
from kgrec.engine.models.options import NoConfig, build_options
from kgrec.engine.training.config import TrainConfig
from kgrec.errors import KgrecError


@dataclass
class FitData:
    """What a model may learn from.

    Attributes:
        columns: the graph with the interactions to fit on (the knowledge part whole).
        validate: NDCG@20 of a fitted model on the held-out validation interactions, with
            ``columns``' interactions as the users' histories; None when there is no
            validation split (learned models then train for ``epochs`` without early stopping).
        refit: the graph with every interaction the model will be asked to score from (train +
            validation); a closed-form model refits on it once its hyper-parameter is chosen on
            ``validate``. None: same as ``columns``.
        checkpoint_dir, resume: per-epoch checkpoints of models trained by gradient
            (:func:`kgrec.engine.training.train.fit`), and whether to continue from the last one.
        progress: progress bars for the long parts of fitting (shown only on a terminal).
    """

    columns: GraphColumns
    validate: Callable[["Recommender"], float] | None = None
    refit: GraphColumns | None = None
    checkpoint_dir: Path | None = None
    resume: bool = False
    progress: bool = True


@dataclass
class ChannelParts:
    """The exact split of evidence contributions into channels (see :meth:`Recommender.channels`).

    For each (row, target, evidence) the contribution is ``collaborative + knowledge``, and
    ``knowledge`` is the sum over every knowledge link (relation, entity) shared by the evidence
    item and the target; the strongest of those links are kept by name.

    Attributes:
        collaborative: (rows x T x E) the part through the item-item weights (what people who
            interacted with the evidence item did): may be negative.
        knowledge: (rows x T x E) the part through the knowledge graph, summed over every link.
        link_relation: (rows x T x E x L) index into ``relation_types`` of the strongest links,
            strongest first, -1 past the last.
        link_entity: (rows x T x E x L) the link's entity, an index into
            ``entity_ids[link_relation]``.
        link_part: (rows x T x E x L) the link's exact part (0 past the last).
        relation_types: relationship type of each knowledge relation (``IN_CATEGORY``, ...).
        entity_ids: per relation, the id of each entity index (None when the model was saved
            without them).
    """

    collaborative: np.ndarray
    knowledge: np.ndarray
    link_relation: np.ndarray
    link_entity: np.ndarray
    link_part: np.ndarray
    relation_types: list[str]
    entity_ids: list[np.ndarray] | None

    @cached_property
    def link_names(self) -> tuple[np.ndarray, np.ndarray]:
        """``"RELATION:entity id"`` of every (relation, entity), relation by relation, then ``""``
        (index -1: no link); and where each relation's entities start (one more offset than
        relations, so a graph without knowledge relations still has one). Requires ``entity_ids``."""
        names = [f"{relation}:{entity}" for relation, ids in zip(self.relation_types, self.entity_ids)
                 for entity in ids.tolist()]
        offsets = np.cumsum([0] + [len(ids) for ids in self.entity_ids])
        return np.array(names + [""], dtype=object), offsets


class Recommender(ABC):
    """Fit on a graph, then score users given as interaction histories.

    Attributes:
        name: the registry key (``kgrec eval`` row, ``--model`` choice, saved with the model).
        options: its own hyper-parameters, an :attr:`options_class`.
        config: the run's options (seed, device) it was created with.
        params: what fitting chose (hyper-parameters picked on validation, best epoch, ...),
            JSON-serialisable; reported by ``kgrec eval`` and stored on the ``:Model`` node.
    """

    name: ClassVar[str]
    #: the dataclass of the options this model reads (``kgrec train --set name=value``)
    options_class: ClassVar[type] = NoConfig
    #: whether :meth:`attention` gives values to write back (only such a model can be published)
    has_attention: ClassVar[bool] = False
    #: whether the seed changes what :meth:`fit` learns (closed-form models: no)
    seeded: ClassVar[bool] = True
    #: whether a saved model scores a history it was never trained on from its state alone (no
    #: per-user parameters, no graph needed: :meth:`load_state` takes ``columns=None``), so the
    #: API can fold a new or changed user in without retraining
    folds_in: ClassVar[bool] = False

    def __init__(self, options: Any, config: TrainConfig):
        self.options = options
        self.config = config
        self.params: dict = {}

    @abstractmethod
    def fit(self, data: FitData) -> "Recommender":
        """Learn from ``data``; returns self."""

    @abstractmethod
    def score(self, histories: Histories) -> torch.Tensor:
        """(len(histories) x items) scores, higher is better, for users given by their histories."""

    def contributions(self, histories: Histories, targets: np.ndarray) -> np.ndarray | None:
        """What each interaction of ``histories`` adds to the scores of its own row's targets:
        ``targets`` is (rows x T) item indices, the result (interactions x T), and a row's
        interactions sum to its scores. A whole batch at once: the write-back ranks the
        evidence of every recommendation of every user. None when the model has no exact
        decomposition (explanations then fall back to leave-one-out re-scoring with
        :meth:`score`)."""
        return None

    def channels(self, histories: Histories, targets: np.ndarray, interactions: np.ndarray,
                 links: int = 1) -> "ChannelParts | None":
        """How the contributions of ``interactions`` ((rows x T x E) indices into
        ``histories``' interactions, -1 for none) to their row's ``targets`` ((rows x T) items)
        split into the model's channels: the collaborative part and one part per knowledge link,
        the ``links`` strongest named. None when the model has no such split (its whole
        contribution is then one channel)."""
        return None

    def embeddings(self, columns: GraphColumns, histories: Histories) -> dict[str, np.ndarray] | None:
        """Label -> (nodes x dim) vectors to store and index in Neo4j; ``histories`` holds every
        user of ``columns`` in index order. None when the model has none."""
        return None

    def item_messages(self) -> np.ndarray | None:
        """(items x dim) query vectors, one per item, whose dot product with another item's
        embedding approximates what the first passes to the second's score (what "items like
        this one" ranks by). None: an item's embedding is its own query."""
        return None

    def known_links(self, links: Sequence[tuple[EdgeKey, str]]) -> list[tuple[int, int]]:
        """Which of an item's ``links`` (relation key, entity id) :meth:`add_items` can use, as
        (relation index, entity index): none for a model without knowledge relations."""
        return []

    def add_items(self, links: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray | None]:
        """Make room for items created after training, each scored from its links as
        :meth:`known_links` gives them (their score columns follow the model's items); returns
        their embeddings and message vectors (see :meth:`item_messages`)."""
        raise NotImplementedError(f"model {self.name!r} cannot add items after training")

    def attention(self, columns: GraphColumns, histories: Histories) -> dict[EdgeKey, np.ndarray] | None:
        """Relationship key -> per-relationship attention in [0, 1], aligned with
        ``columns.edges[key]`` (what ``kgrec train`` writes back). None: the model has no
        attention (:attr:`has_attention` is False) and cannot be published."""
        return None

    def state(self) -> dict:
        """Everything needed to score again: tensors, numbers, strings, lists and dicts of them
        only (loaded with ``torch.load(weights_only=True)``)."""
        raise NotImplementedError(f"model {self.name!r} cannot be saved")

    def load_state(self, state: dict, columns: GraphColumns | None) -> "Recommender":
        """Restore :meth:`state` for scoring over ``columns`` (the graph it was fitted on; None
        for a model that :attr:`folds_in`)."""
        raise NotImplementedError(f"model {self.name!r} cannot be loaded")


def closed_form_fit(data: FitData, options: Sequence, default, fit_on: Callable[[sp.csr_matrix, object], None],
                    model: Recommender):
    """The closed-form baselines' protocol: fit each option on train (``fit_on(matrix,
    option)`` sets ``model``'s weights), keep the one with the best validation NDCG@20 (``default``
    without a validation split), refit it on train + validation. Returns the option kept."""
    best = default
    if data.validate:
        train, scores = interaction_matrix(data.columns), {}
        for option in options:
            fit_on(train, option)
            scores[option] = data.validate(model)
        best = max(scores, key=scores.get)
    fit_on(interaction_matrix(data.refit or data.columns), best)
    return best


class UnknownModelError(KgrecError, ValueError):
    """A model name that is not in :data:`kgrec.engine.models.MODELS`."""


def model_class(name: str) -> type[Recommender]:
    """The class of the registered model ``name`` (see :data:`kgrec.engine.models.MODELS`),
    its module imported now."""
    import importlib

    from kgrec.engine.models import MODELS

    if name not in MODELS:
        raise UnknownModelError(f"unknown model {name!r}; the registered models are {', '.join(MODELS)}")
    entry = MODELS[name]
    if isinstance(entry, str):
        module, _, cls = entry.partition(":")
        entry = getattr(importlib.import_module(module), cls)
    return entry


def create(name: str, config: TrainConfig, options: Mapping[str, Any] | None = None) -> Recommender:
    """The registered model ``name`` with ``options`` over its defaults (text values, as
    ``--set`` gives them, are converted; see :func:`~kgrec.engine.models.options.build_options`).

    Raises:
        UnknownModelError: ``name`` is not registered.
        UnknownOptionError: an option the model does not read.
    """
    cls = model_class(name)
    return cls(build_options(cls.options_class, name, options or {}), config)
