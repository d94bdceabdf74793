"""Train and publish: pull the graph, fit the model, save it, write it back as the active model.

One function, :func:`train_and_publish`, is what ``kgrec train`` runs and what the README demo
(``kgrec demo``) calls, so the two can never drift apart.

Example:
    >>> from kgrec.engine.training.config import TrainConfig
    >>> version, stats = train_and_publish(driver, "neo4j", TrainConfig(seed=1), model_dir=settings.models_dir)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import neo4j

from kgrec.engine.data.graph import INTERACTION_KEY
from kgrec.engine.data.histories import histories_from_columns
from kgrec.engine.data.split import temporal_split
from kgrec.engine.evaluation.evaluate import fit_data
from kgrec.engine.models.base import create
from kgrec.engine.output import model_output
from kgrec.engine.neo4j.persist import model_checkpoints, prune_checkpoints, save_model
from kgrec.engine.neo4j.pull import PullStats, pull_graph
from kgrec.engine.neo4j.writeback import WriteStats, write_model
from kgrec.engine.training.config import TrainConfig
from kgrec.engine.training.train import seed_everything
from kgrec.errors import KgrecError

log = logging.getLogger(__name__)


class NothingToTrainError(KgrecError, ValueError):
    """The database holds no interactions, or the model has no attention to publish."""


@dataclass
class PublishStats:
    """What one :func:`train_and_publish` run did.

    Attributes:
        pull: nodes and relationships pulled, and how long it took.
        train: what fitting chose and reached (the model's ``params``: validation NDCG@20,
            hyper-parameters picked, best epoch for models trained by gradient).
        write: what the write-back wrote, with seconds per phase (see :class:`WriteStats`).
        checkpoint: the saved model (recorded on the ``:Model`` node as ``checkpoint``).
        seconds: wall time per phase: ``pull``, ``train``, ``output`` (scores, evidence, attention,
            embeddings), ``save`` (the checkpoint file), ``write``.
        fit_phases: the model's own seconds per phase of fitting, when it keeps them (the
            attention model's ``timings``).
    """

    pull: PullStats
    train: dict
    write: WriteStats
    checkpoint: Path
    seconds: dict[str, float]
    fit_phases: dict = field(default_factory=dict)


def new_version(model: str) -> str:
    """A unique, sortable model version: ``attention-20250101T120000-1a2b3c`` (two runs in the same
    second must not share a version: the write-back keys everything on it)."""
    return f"{model}-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def train_and_publish(driver: neo4j.Driver, database: str, config: TrainConfig, top_k: int = 20,
                      checkpoint_dir: Path | None = None, resume: bool = False,
                      progress: bool = True, *, model_dir: Path,
                      options: Mapping[str, Any] | None = None) -> tuple[str, PublishStats]:
    """Pull the whole graph, train on it, and make the result the active model.

    All interactions but a per-user temporal validation slice are fitted on (the slice chooses
    hyper-parameters or stops training, as in ``kgrec eval``); closed-form parts are then refitted
    on every interaction, and the published model scores users from *all* their interactions. The
    trained model is saved to ``model_dir/<version>.pt`` before the write-back, which
    switches the active model atomically (:func:`~kgrec.engine.neo4j.writeback.write_model`).

    Args:
        driver: an open driver.
        database: the database holding the graph.
        config: the run's options; ``config.model`` names a registered model with attention.
        top_k: RECOMMENDED edges per user.
        checkpoint_dir: per-epoch training checkpoints (``last.pt``), for ``resume``.
        resume: continue an interrupted run from ``checkpoint_dir/last.pt``.
        progress: progress bars during fitting and the write-back (on a terminal only).
        options: the model's options over its defaults (``kgrec train --set``), refused when
            the model does not read them.
        model_dir: where the trained model is saved (:attr:`kgrec.settings.Settings.models_dir`). After
            the switch, the checkpoint files of the models the write-back removed (the retired
            one, leftovers of dead runs) are deleted from it.

    Returns:
        ``(version, stats)``: the now-active model version and a :class:`PublishStats`.

    The ``:Model`` node's ``params`` record what the model used: the run's model, seed and
    device, every option of the model, and what fitting chose.

    Raises:
        NothingToTrainError: no INTERACTED relationships, or a model without attention.
        UnknownOptionError: an option the model does not read (before the graph is pulled).
    """
    model = create(config.model, config, options)
    if not model.has_attention:
        raise NothingToTrainError(f"model {config.model!r} has no attention to write back and cannot be published; "
                                  "compare it with `kgrec eval --methods ...`")
    seconds: dict[str, float] = {}
    started = time.monotonic()
    columns, pull_stats = pull_graph(driver, database)
    seconds["pull"] = time.monotonic() - started
    if len(columns.edges.get(INTERACTION_KEY, ((),))[0]) == 0:
        raise NothingToTrainError(f"database {database!r} has no (:User)-[:INTERACTED]->(:Item) relationships; "
                                  "load data first (kgrec load ...)")

    started = time.monotonic()
    seed_everything(config.seed)
    split = temporal_split(columns, test_fraction=0.0)  # production: hold out validation only
    histories = histories_from_columns(columns)
    model.fit(fit_data(columns, split, checkpoint_dir=checkpoint_dir, resume=resume, progress=progress))
    metrics = dict(model.params)  # what fitting chose and its validation score (scoring validation after the refit would leak)
    params = {"model": config.model, "seed": config.seed, "device": str(config.resolved_device()),
              **asdict(model.options), **model.params}
    seconds["train"] = time.monotonic() - started

    started = time.monotonic()
    output = model_output(model, columns, histories, new_version(config.model), k=top_k, params=params,
                          metrics=metrics, progress=progress)
    seconds["output"] = time.monotonic() - started

    started = time.monotonic()
    checkpoint = save_model(model_dir / f"{output.version}.pt", model, columns, output.version,
                            co_raters=output.co_rater_index)
    output.checkpoint = str(checkpoint)
    seconds["save"] = time.monotonic() - started

    started = time.monotonic()
    before = model_checkpoints(driver, database)
    write_stats = write_model(driver, database, columns, output, progress=progress)
    prune_checkpoints(before, model_checkpoints(driver, database), model_dir)
    seconds["write"] = time.monotonic() - started
    log.info("model %s active (checkpoint %s); seconds: %s", output.version, checkpoint,
             ", ".join(f"{phase} {s:.1f}" for phase, s in seconds.items()))
    return output.version, PublishStats(pull_stats, metrics, write_stats, checkpoint, seconds,
                                        dict(getattr(model, "timings", {})))
