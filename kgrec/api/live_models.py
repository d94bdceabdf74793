"""The frozen models the API folds users in with, loaded once per model version.

The active model's checkpoint is read the first time a user needs folding in after the model
became active (and at startup), then kept in memory: folding a user in is a scoring pass over
the catalogue, with no graph pull and no training. Only the latest versions are kept; a version
that cannot fold users in (no checkpoint on this machine, a model with per-user parameters) is
remembered as such, and its stored lists are served as they are.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import torch

from kgrec.api.neo4j_calls import open_api_driver
from kgrec.api.settings import ApiSettings
from kgrec.engine.fold_in import fold_in
from kgrec.engine.neo4j.persist import FrozenModel, ModelNotAvailableError, load_frozen
from kgrec.serving import library

log = logging.getLogger(__name__)

#: model versions kept in memory: the active one and the one it replaced (requests in flight)
KEPT = 2
_NOT_LOADED = object()


class LiveModels:
    """Version -> :class:`FrozenModel` (or None when that version cannot fold users in)."""

    def __init__(self, models_root: Path):
        # One user's scoring is a few small products: the API's parallelism is its requests, and
        # intra-op threads on top of them only contend for the cores Neo4j needs too.
        torch.set_num_threads(1)
        self._models_root = models_root
        self._loaded: OrderedDict[str, FrozenModel | None] = OrderedDict()
        self._lock = threading.Lock()

    async def frozen(self, version: str, checkpoint: str | None) -> FrozenModel | None:
        """:meth:`get` from the event loop: a version already loaded (or known not to fold
        users in) is answered at once, only a load goes to a worker thread."""
        found = self._loaded.get(version, _NOT_LOADED)  # one dict read; the lock only guards loading
        if found is not _NOT_LOADED:
            return found
        return await anyio.to_thread.run_sync(self.get, version, checkpoint)

    def get(self, version: str, checkpoint: str | None) -> FrozenModel | None:
        """The frozen model ``version`` saved at ``checkpoint``; blocking (call it off the event
        loop). Concurrent first requests load the file once."""
        with self._lock:
            if version not in self._loaded:
                self._loaded[version] = self._load(version, checkpoint)
                while len(self._loaded) > KEPT:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(version)
            return self._loaded[version]

    async def updated(self, frozen: FrozenModel, update: Callable[[FrozenModel], Awaitable[None]]) -> FrozenModel:
        """A copy of ``frozen`` changed by ``update`` (items added after training), kept in
        place of ``frozen``: folds in flight keep the model they started with."""
        changed = await anyio.to_thread.run_sync(copy.deepcopy, frozen)
        await update(changed)
        with self._lock:
            if self._loaded.get(changed.version) is frozen:
                self._loaded[changed.version] = changed
        return changed

    def warm_up(self, settings: ApiSettings) -> None:
        """Load the active model and fold one user in, so the first request after a start does
        not pay for reading the file and for the model's lazily computed parts. Never raises: a
        server whose database is down still starts, and requests load the model later.

        Runs in a thread of its own with a driver of its own: the app closes its driver at
        shutdown, and a query of this thread in flight on it then broke the close."""
        try:
            with open_api_driver(settings) as driver:
                active = library.active_model(driver, settings.neo4j.database)
            frozen = self.get(active.version, active.checkpoint) if active else None
            if frozen is not None and len(frozen.item_ids):
                fold_in(frozen, [{"item_id": frozen.item_ids[0]}], k=1)
        except Exception as exc:  # noqa: BLE001 -- a warm-up failure only costs the first request time
            log.warning("could not load the active model at startup (%s); the first request will", exc)

    def _load(self, version: str, checkpoint: str | None) -> FrozenModel | None:
        if not checkpoint:
            log.warning("model %s has no checkpoint: users with new interactions keep their stored lists", version)
            return None
        try:
            frozen = load_frozen(Path(checkpoint), self._models_root)
        except ModelNotAvailableError as exc:
            log.warning("model %s cannot fold users in (%s)", version, exc)
            return None
        if frozen.version != version:
            log.warning("checkpoint %s holds model %s, not the active %s; not folding users in",
                        checkpoint, frozen.version, version)
            return None
        log.info("model %s loaded for folding users in (%d items)", version, len(frozen.item_ids))
        return frozen
