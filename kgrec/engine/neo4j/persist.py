"""Trained models on disk, and the active model rebuilt from Neo4j for scoring.

Neo4j holds what a model *produced* (embeddings, attention, RECOMMENDED edges); re-scoring an
edited history — the explanation faithfulness tests (deletion, PN@K, PS@K) — needs the model
*itself*. ``kgrec train`` therefore saves every published model to
``$KGREC_HOME/models/<version>.pt`` (the model's name and :meth:`state
<kgrec.engine.models.base.Recommender.state>`, its options and its
:class:`~kgrec.engine.training.config.TrainConfig`, the graph's fingerprint; tensors and plain values only, read back with
``torch.load(weights_only=True)``, so a file cannot run code) and records that path on the ``:Model`` node as ``checkpoint``, written
before the atomic flip like every other property of the model.

:func:`load_active` is the way back: it reads the active model's checkpoint path, pulls the
graph, checks that the node sets are the ones the model was trained on (the node index space is
"ids sorted per label", so any added or removed node shifts indices and would silently score the
wrong nodes), and restores the model over the pulled graph.

Example (deletion test for user ``u1``: how much does dropping its latest interaction lower
its scores?):
    >>> model, columns, version = load_active(driver, "neo4j", settings.models_dir)  # doctest: +SKIP
    >>> histories = histories_from_columns(columns, users=columns.index_of("User", ["u1"]))  # doctest: +SKIP
    >>> drop = model.score(histories) - model.score(histories.without(0, histories.items[-1:]))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import neo4j
import numpy as np
import torch

from kgrec import cypher
from kgrec.engine.co_raters import CoRaterIndex
from kgrec.engine.data.graph import GraphColumns
from kgrec.engine.models.base import Recommender, create, model_class
from kgrec.engine.models.options import option_names
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.training.config import TrainConfig
from kgrec.errors import KgrecError
from kgrec.graph_schema import ITEM
from kgrec.serving import library

log = logging.getLogger(__name__)


@dataclass
class FrozenModel:
    """A saved model ready to fold users in.

    Attributes:
        version: the model version (``RECOMMENDED.model``).
        model: the restored model.
        item_ids: item id of each score column: as at training, then the items added since.
        co_raters: the training graph's interactions, to count the co-raters a live list's
            explanations state (None for a checkpoint saved without them).
    """

    version: str
    model: Recommender
    item_ids: np.ndarray
    co_raters: CoRaterIndex | None = None
    index: dict[str, int] = field(init=False, repr=False)
    #: the model's count of items added after training (``(:Model).added_items``) when this copy
    #: last took them in (:func:`kgrec.engine.neo4j.new_items.catch_up`)
    added_count: int = 0

    def __post_init__(self) -> None:
        self.index = {item: position for position, item in enumerate(self.item_ids.tolist())}


class ModelNotAvailableError(KgrecError, LookupError):
    """There is no active model, or its checkpoint file cannot be read."""


class GraphChangedError(KgrecError, ValueError):
    """The graph's node sets differ from the ones the model was trained on."""


def save_model(path: Path, model: Recommender, columns: GraphColumns, version: str,
               co_raters: CoRaterIndex | None = None) -> Path:
    """Write the fitted model, its options and run config, the fingerprint of the graph ``columns`` it was
    fitted on and that graph's item ids (the index space of its scores, so a model that folds
    users in is served by id without the graph) and, when given, the ``co_raters`` index to
    ``path``, atomically: a reader never sees half a file. Returns the absolute path."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    torch.save({"version": version, "name": model.name, "state": model.state(),
                "options": dataclasses.asdict(model.options), "config": dataclasses.asdict(model.config),
                "fingerprint": columns.fingerprint(),
                "item_ids": [str(item) for item in columns.node_ids[ITEM]],
                **({"co_raters": co_raters.state()} if co_raters is not None else {})}, partial)
    partial.replace(path)
    return path


def model_checkpoints(driver: neo4j.Driver, database: str) -> dict[str, str | None]:
    """Version -> checkpoint path of every ``:Model`` node in ``database``."""
    records, _, _ = driver.execute_query(cypher.load("model_checkpoints"), database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return {r["version"]: r["checkpoint"] for r in records}


def prune_checkpoints(before: dict[str, str | None], after: dict[str, str | None], model_dir: Path) -> list[Path]:
    """Delete the checkpoint files of models that were in the database (``before``, a
    :func:`model_checkpoints` reading) and are gone from it (``after``): the model a write-back
    retired and the leftovers of dead runs that it cleaned up. Why this and not "every other file
    in the folder": one models folder can serve several databases, and a file another database's
    model names must stay. Only files inside ``model_dir`` are touched. Returns what was deleted.
    """
    keep = {Path(path).resolve() for path in after.values() if path}
    root = model_dir.resolve()
    removed = []
    for version, path in before.items():
        if version in after or not path:
            continue
        file = Path(path).resolve()
        if file in keep or not file.is_relative_to(root):
            continue
        try:
            file.unlink()
        except FileNotFoundError:
            continue
        removed.append(file)
        log.info("removed the checkpoint of retired model %s: %s", version, file)
    return removed


def _restore(saved: dict) -> Recommender:
    """The saved model, unfitted, with its saved options and run config, on the CPU. Names a
    newer or older kgrec does not know are ignored, and a checkpoint written before models had
    options of their own finds them in its run config."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{**{k: v for k, v in saved["config"].items() if k in known}, "device": "cpu"})
    reads = set(option_names(model_class(saved["name"]).options_class))
    options = {k: v for k, v in saved.get("options", saved["config"]).items() if k in reads}
    return create(saved["name"], config, options)


def _read_checkpoint(path: Path, models_root: Path) -> dict:
    """The saved dict at ``path``. ``path`` comes from the database, so it is only read when it
    lies inside ``models_root`` (:attr:`kgrec.settings.Settings.models_dir`), and only as
    tensors and plain values."""
    root = models_root.resolve()
    if not path.resolve().is_relative_to(root):
        raise ModelNotAvailableError(f"the active model's checkpoint {path} is outside the models folder {root}; "
                                     "run `kgrec train` again (or set KGREC_HOME to the home that trained it)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelNotAvailableError(f"model checkpoint {path} is missing; run `kgrec train` again") from exc
    except Exception as exc:  # pickle.UnpicklingError and friends: a file that is not a kgrec model
        raise ModelNotAvailableError(f"model checkpoint {path} cannot be read as a kgrec model ({exc}); "
                                     "run `kgrec train` again") from exc


def load_model(path: Path, columns: GraphColumns, models_root: Path) -> Recommender:
    """The model saved at ``path``, restored over ``columns`` (which must have the node sets it
    was trained on; raises :class:`GraphChangedError` otherwise)."""
    saved = _read_checkpoint(path, models_root)
    if saved["fingerprint"] != columns.fingerprint():
        raise GraphChangedError(
            f"model {saved['version']} was trained on another graph (node fingerprint {saved['fingerprint']}, "
            f"now {columns.fingerprint()}): users, items or entities were added or removed since; "
            "run `kgrec train` to publish a model of the current graph")
    return _restore(saved).load_state(saved["state"], columns)


def load_frozen(path: Path, models_root: Path) -> FrozenModel:
    """The model saved at ``path`` with its item ids, to fold users in without the graph:
    users and interactions added since training do not matter to it, items are matched by id.

    Raises:
        ModelNotAvailableError: the file cannot be read, or the model cannot fold users in
            (it has per-user parameters, or was saved before item ids were).
    """
    saved = _read_checkpoint(path, models_root)
    model = _restore(saved)
    if not model.folds_in or "item_ids" not in saved:
        raise ModelNotAvailableError(f"model {saved['version']} ({saved['name']}) cannot score users it was not "
                                     "trained on; its stored recommendations are served as they are")
    co_raters = CoRaterIndex.from_state(saved["co_raters"]) if "co_raters" in saved else None
    return FrozenModel(saved["version"], model.load_state(saved["state"], None), np.asarray(saved["item_ids"]),
                       co_raters)


def load_active(driver: neo4j.Driver, database: str, models_root: Path) -> tuple[Recommender, GraphColumns, str]:
    """The active model, ready to score any (edited) user history, over the graph in Neo4j.

    Args:
        driver: an open driver.
        database: the database holding the graph and the active ``:Model``.
        models_root: the models folder; a checkpoint recorded elsewhere is not read.

    Returns:
        ``(model, columns, version)``:

        - ``model`` — the :class:`~kgrec.engine.models.base.Recommender`: ``model.score(histories)``
          scores every item for users given as :class:`~kgrec.engine.data.histories.Histories`
          (edited or not). With a user's full history it reproduces the scores stored on its
          ``RECOMMENDED`` edges (when no interaction was added since training).
        - ``columns`` — the pulled :class:`~kgrec.engine.data.graph.GraphColumns`, the index space of
          ``frozen``: ``columns.node_ids[label][i]`` is the id of index ``i`` (sorted ids),
          ``columns.index_of(label, ids)`` the reverse; interactions are
          ``columns.edges[INTERACTION_KEY]`` (user indices, item indices).
        - ``version`` — the active model's version (``RECOMMENDED.model``).

    Raises:
        ModelNotAvailableError: no active model, or it has no readable checkpoint (models
            published before checkpoints were recorded: train again).
        GraphChangedError: nodes were added or removed since the model was trained.
    """
    active = library.active_model(driver, database)
    if active is None:
        raise ModelNotAvailableError(f"no active model in database {database!r}; run `kgrec train` first")
    version, checkpoint = active.version, active.checkpoint
    if not checkpoint:
        raise ModelNotAvailableError(f"the active model {version} has no checkpoint recorded; run `kgrec train` again")
    columns, _ = pull_graph(driver, database)
    model = load_model(Path(checkpoint), columns, models_root)
    log.info("loaded model %s from %s", version, checkpoint)
    return model, columns, version
