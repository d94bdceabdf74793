"""Offline evaluation of every registered model on one temporal split.

Protocol (the same for every method): the per-user temporal split of
:mod:`kgrec.engine.data.split`. Each model is fitted on train, with the validation split to choose
hyper-parameters or stop early (:class:`~kgrec.engine.models.base.FitData`); closed-form models
then refit on train + validation. All are then asked to rank every item the user has not
interacted with in train + validation, against the test interactions, with train + validation
as the users' histories. Nothing ever fits on test. The same lists also give the measures per
segment (cold items, short and long histories: :func:`~kgrec.engine.evaluation.metrics.segments`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kgrec.engine.data.graph import GraphColumns
from kgrec.engine.data.histories import Histories, histories_from_columns
from kgrec.engine.data.split import Split, temporal_split
from kgrec.engine.evaluation.metrics import (SEGMENTS, accuracy, evaluate, held_out_users, history_users,
                                             list_quality, segments, top_k_lists)
from kgrec.engine.models import EVALUATED
from kgrec.engine.models.base import FitData, Recommender, create
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import seed_everything

log = logging.getLogger(__name__)


#: validation ranks at most this many users: a fit validates dozens of times (the attention
#: model's grid of penalties, knowledge shares and shapes), each a pass of every validation user
#: over the whole catalogue, which dominates training past ~10^4 items once the item-item solve
#: no longer does; a seeded sample, the same users at every point of a grid. The test measures
#: of ``kgrec eval`` rank every user.
VALIDATION_USERS_MAX = 10_000


def validation_users(held_out: sp.csr_matrix, max_users: int = VALIDATION_USERS_MAX) -> sp.csr_matrix:
    """``held_out`` with the rows of at most ``max_users`` of its users kept (a sample seeded
    by nothing but the matrix, so every call on it keeps the same users), the others emptied."""
    users = held_out_users(held_out)
    if len(users) <= max_users:
        return held_out
    kept = np.zeros(held_out.shape[0], bool)
    kept[np.random.default_rng(0).choice(users, max_users, replace=False)] = True
    sampled = held_out.copy()
    sampled.data[~kept[np.repeat(np.arange(held_out.shape[0]), np.diff(held_out.indptr))]] = 0
    sampled.eliminate_zeros()
    return sampled


class Validation:
    """NDCG@20 on the validation interactions of at most ``max_users`` users
    (:func:`validation_users`), with train as the known history: a fit calls it once per point of
    its grid, so the histories and matrices are built on the first call and kept."""

    def __init__(self, columns: GraphColumns, split: Split, max_users: int = VALIDATION_USERS_MAX):
        self.columns, self.split, self.max_users = columns, split, max_users

    @cached_property
    def _inputs(self) -> tuple[Histories, sp.csr_matrix, sp.csr_matrix]:
        return (histories_from_columns(self.columns, self.split.train), self.split.matrix(self.split.train),
                validation_users(self.split.matrix(self.split.val), self.max_users))

    def __call__(self, model: Recommender) -> float:
        histories, train, held_out = self._inputs
        return evaluate(lambda users: model.score(histories.select(users)), train, held_out, ks=(20,))["ndcg@20"]


def fit_data(columns: GraphColumns, split: Split, *, checkpoint_dir: Path | None = None, resume: bool = False,
             progress: bool = True) -> FitData:
    """What a model may learn from on ``split``: train, validation to choose or stop, train +
    validation to refit on; the one builder of :class:`FitData`, for ``kgrec eval`` and for
    ``kgrec train`` (whose split has no test part, so it refits on every interaction).
    ``checkpoint_dir``, ``resume`` and ``progress`` are :class:`FitData`'s."""
    return FitData(split.fit_columns(columns, split.train),
                   validate=Validation(columns, split),
                   refit=split.fit_columns(columns, split.train | split.val),
                   checkpoint_dir=checkpoint_dir, resume=resume, progress=progress)


def run_evaluation(columns: GraphColumns, config: TrainConfig, ks: Sequence[int] = (10, 20),
                   methods: Sequence[str] = EVALUATED,
                   options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict]:
    """Metrics per method (plus ``params`` and ``seconds``) on ``columns``' temporal split;
    ``options`` gives a method's options over its defaults, by method name."""
    split = temporal_split(columns)
    known = split.matrix(split.train | split.val)
    test = split.matrix(split.test)
    histories = histories_from_columns(columns, split.train | split.val)
    data = fit_data(columns, split)
    results: dict[str, dict] = {}
    for method in methods:
        started = time.perf_counter()
        seed_everything(config.seed)
        model = create(method, config, (options or {}).get(method)).fit(data)
        fitted = time.perf_counter() - started
        # one scoring of every user serves the accuracy and the list measures
        tested, with_history = held_out_users(test), history_users(known)
        users = np.union1d(tested, with_history)
        lists = top_k_lists(lambda batch: model.score(histories.select(batch)), known, users, max(ks))
        metrics = accuracy(lists[np.isin(users, tested)], tested, test, ks)
        metrics.update(segments(lists[np.isin(users, tested)], tested, test, known, k=segment_k(ks)))
        metrics.update(list_quality(lists[np.isin(users, with_history)], known, columns, k=max(ks)))
        metrics["params"] = model.params
        metrics["fit_seconds"] = round(fitted, 2)
        metrics["seconds"] = round(time.perf_counter() - started, 2)
        results[method] = metrics
        log.info("%s: NDCG@20 %.4f Recall@20 %.4f (%.1fs)", method, metrics.get("ndcg@20", float("nan")),
                 metrics.get("recall@20", float("nan")), metrics["seconds"])
    return results


def segment_k(ks: Sequence[int]) -> int:
    """The cut-off the segments are measured at: 20 when evaluated, else the largest."""
    return 20 if 20 in ks else max(ks)


def format_table(results: dict[str, dict], ks: Sequence[int] = (10, 20)) -> str:
    """A plain-text table of the metrics (one row per method), then one of the segments (NDCG /
    Recall at :func:`segment_k`, with each segment's size) when the results have them."""
    columns = [f"{name}@{k}" for k in ks for name in ("recall", "ndcg", "hit_rate", "coverage")]
    lines = [f"{'method':<13}" + "".join(f"{c:>13}" for c in columns) + f"{'seconds':>9}"]
    for method, metrics in results.items():
        lines.append(f"{method:<13}" + "".join(f"{metrics.get(c, np.nan):>13.4f}" for c in columns)
                     + f"{metrics.get('seconds', np.nan):>9.1f}")
    k = segment_k(ks)
    if not any(f"{SEGMENTS[0]}:ndcg@{k}" in metrics for metrics in results.values()):
        return "\n".join(lines)
    first = next(metrics for metrics in results.values() if f"{SEGMENTS[0]}:ndcg@{k}" in metrics)
    heads = [f"{name} ({first[f'{name}:users']:.0f} users, {first[f'{name}:interactions']:.0f} held out)"
             for name in SEGMENTS]
    width = max(len(head) for head in heads) + 2
    lines += ["", f"segments, NDCG@{k} / Recall@{k}:",
              f"{'method':<13}" + "".join(f"{head:>{width}}" for head in heads)]
    for method, metrics in results.items():
        cells = [f"{metrics[f'{name}:ndcg@{k}']:.4f} / {metrics[f'{name}:recall@{k}']:.4f}"
                 if metrics.get(f"{name}:users") else "-" for name in SEGMENTS]
        lines.append(f"{method:<13}" + "".join(f"{cell:>{width}}" for cell in cells))
    return "\n".join(lines)
