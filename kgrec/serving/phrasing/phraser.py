"""Phrase explanation paths with a chat model, within a time budget, verified, cached.

Each path gets ``phrasing``: ``"llm"`` when the model's sentence passed
:func:`~kgrec.serving.phrasing.verify.verify` (it is then in ``phrase``), else ``"template"``
with the reason in ``phrasing_note``, and the template ``sentence`` is the one to show.

A caller that must answer in time (the API) gives a budget: paths whose phrase is not ready by
then get the template, while their phrasing goes on in the background and lands in the cache,
so asking again finds it. Phrases are cached by model and by the path's facts (accepted and
rejected alike: decoding is greedy, the model would say the same again); failures of the model
(a timeout, a refused connection) are not cached.
"""

from __future__ import annotations

import concurrent.futures as futures
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgrec.serving.phrasing.backends import ChatBackend, PhrasingUnavailable, backend_from_settings
from kgrec.serving.phrasing.facts import PathFacts
from kgrec.serving.phrasing.prompt import messages
from kgrec.serving.phrasing.verify import verify
from kgrec.serving.results import ExplanationPath

if TYPE_CHECKING:
    from kgrec.settings import Settings

log = logging.getLogger(__name__)

#: phrases kept in memory, and paths that may wait for the model at once (more get the template)
CACHE_SIZE, MAX_PENDING = 20_000, 200


@dataclass(frozen=True)
class Outcome:
    """The model's sentence for one path, and the verifier's verdict on it."""

    text: str
    accepted: bool
    reason: str | None = None


def _clean(reply: str) -> str:
    """The first line of the model's reply, without quotes around it."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    return lines[0].strip('"“”') if lines else ""


class Phraser:
    """Phrases paths with one backend; thread-safe (the API shares one)."""

    def __init__(self, backend: ChatBackend | None, *, unavailable: str | None = None, timeout_s: float = 30.0,
                 workers: int = 1) -> None:
        self.backend = backend
        self.unavailable = unavailable
        self.timeout_s = timeout_s
        self._pool = futures.ThreadPoolExecutor(max(1, workers), thread_name_prefix="kgrec-phrase")
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, Outcome] = OrderedDict()
        self._pending: dict[tuple, futures.Future[Outcome]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Phraser:
        """The settings' backend (:func:`backend_from_settings`), or a phraser that explains why
        it has none on every path."""
        try:
            backend = backend_from_settings(settings)
        except PhrasingUnavailable as exc:
            return cls(None, unavailable=str(exc))
        return cls(backend, timeout_s=settings.llm_timeout_s, workers=1 if settings.llm_url is None else 4)

    @property
    def name(self) -> str | None:
        return self.backend.name if self.backend else None

    def phrase(self, paths: Iterable[ExplanationPath], budget_s: float | None = None) -> list[ExplanationPath]:
        """Set ``phrasing`` (and ``phrase`` or ``phrasing_note``) on each of ``paths``, waiting
        at most ``budget_s`` seconds for the model (None: as long as it takes). A verdict the
        path carries from its edge (``_verdict``, same model) is used instead of the model, once
        the verifier agrees with it again. Returns the paths whose verdict is new (what a caller
        may want to store with :func:`kgrec.serving.library.store_phrases`)."""
        paths = list(paths)
        if self.backend is None:
            for path in paths:
                path.phrase = path.phrased_by = None
                path.phrasing, path.phrasing_note = "template", self.unavailable
            return []
        facts = [PathFacts.of(path) for path in paths]
        waiting: dict[tuple, futures.Future[Outcome]] = {}
        for path, fact in zip(paths, facts):
            key = (self.backend.name, fact.key())
            stored = self._own(path._verdict)
            if stored and (verdict := verify(stored["text"], fact)).accepted == stored["accepted"]:
                self._remember(key, Outcome(stored["text"], verdict.accepted, verdict.reason))
            elif key not in waiting and self._cached(key) is None:
                job = self._submit(key, fact)
                if job is not None:
                    waiting[key] = job
        futures.wait(waiting.values(), timeout=budget_s)
        fresh = []
        for path, fact in zip(paths, facts):
            key = (self.backend.name, fact.key())
            outcome, job = self._cached(key), waiting.get(key)
            failure = job.exception() if job is not None and job.done() and not job.cancelled() else None
            if outcome is None and job is not None and job.done() and not job.cancelled() and failure is None:
                outcome = job.result()  # done, its callback not yet run
            if outcome is None or not outcome.accepted:
                path.phrase = path.phrased_by = None
            if failure is not None:
                path.phrasing, path.phrasing_note = "template", f"the language model failed: {failure}"
            elif outcome is None:
                path.phrasing = "template"
                path.phrasing_note = (f"not phrased within the budget of {budget_s:g} s; being phrased, ask again"
                                      if job is not None else "the language model is busy: too many phrases waiting")
            elif outcome.accepted:
                path.phrase, path.phrased_by, path.phrasing, path.phrasing_note = (
                    outcome.text, self.backend.name, "llm", None)
            else:
                path.phrasing, path.phrasing_note = "template", f"the model's phrase was rejected: {outcome.reason}"
            if outcome is not None:
                verdict = {"text": outcome.text, "by": self.backend.name, "accepted": outcome.accepted,
                           "reason": outcome.reason}
                fresh += [path] if path._verdict != verdict else []
                path._verdict = verdict
        return fresh

    def _own(self, verdict: object) -> dict | None:
        """``verdict`` if this model wrote it and it has the shape :meth:`phrase` gives (an edge's
        property may be anything: written by an older kgrec, edited in Browser), else None."""
        if (isinstance(verdict, dict) and self.backend is not None and verdict.get("by") == self.backend.name
                and isinstance(verdict.get("text"), str) and isinstance(verdict.get("accepted"), bool)):
            return verdict
        return None

    def outcome(self, path: ExplanationPath) -> Outcome | None:
        """The cached outcome for ``path``'s facts (the model's sentence even when rejected)."""
        return self._cached((self.name, PathFacts.of(path).key())) if self.backend else None

    def close(self) -> None:
        """Stop: phrasing still waiting is dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, key: tuple, fact: PathFacts) -> futures.Future[Outcome] | None:
        with self._lock:
            if key in self._pending:
                return self._pending[key]
            if len(self._pending) >= MAX_PENDING:
                return None
            job = self._pool.submit(self._run, fact)
            self._pending[key] = job
        job.add_done_callback(lambda done: self._finish(key, done))
        return job

    def _run(self, fact: PathFacts) -> Outcome:
        assert self.backend is not None
        text = _clean(self.backend.complete(messages(fact), self.timeout_s))
        verdict = verify(text, fact)
        return Outcome(text, verdict.accepted, verdict.reason)

    def _finish(self, key: tuple, done: futures.Future[Outcome]) -> None:
        with self._lock:
            self._pending.pop(key, None)
        if done.cancelled():
            return
        if done.exception() is not None:
            log.info("phrasing failed: %s", done.exception())
            return
        self._remember(key, done.result())

    def _cached(self, key: tuple) -> Outcome | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _remember(self, key: tuple, outcome: Outcome) -> None:
        with self._lock:
            self._cache[key] = outcome
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
