"""One publish at a time per database: a lock node that the write-back holds from the choice of
its slot to the cleanup after the switch.

Why: two write-backs at once both chose the free slot, wrote into it, and the loser's cleanup
removed the winner's attention — the served model lost every attention value, and both could
flip ``active``. The lock is a ``(:PublishLock {name: 'publish'})`` node in the database itself
(so it is per database, and every machine that publishes sees it) under a uniqueness
constraint, so two runs taking it at once cannot both succeed.

A run that finds the lock taken waits for it, saying who holds it (host, pid, since when), and
fails with the same facts after ``wait_s``. A holder refreshes a heartbeat every
``heartbeat_s``; a lock is stale, and taken over, when that heartbeat is older than
``stale_after_s`` (a holder that crashed or lost its connection) or when its holder was a
process on this host that no longer exists (a killed run: no need to wait for the expiry;
machines publishing into one database must therefore have distinct host names, as containers
do by default).
A holder whose lock was taken over cannot activate its model: activation requires the lock
(``writeback_activate``).

Example:
    >>> with PublishLock(driver, "neo4j") as lock:  # doctest: +SKIP
    ...     activate(driver, "neo4j", version, lock.owner)
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import neo4j

from kgrec import cypher
from kgrec.errors import KgrecError

log = logging.getLogger(__name__)

LOCK_NAME = "publish"
#: how long a second publish waits for the first by default: a write-back of a 1M-interaction
#: graph takes a few minutes on a small machine
DEFAULT_WAIT_S = 30 * 60
DEFAULT_HEARTBEAT_S = 15.0
DEFAULT_STALE_AFTER_S = 120.0
POLL_S = 1.0


class PublishLockedError(KgrecError, RuntimeError):
    """Another run holds the publish lock of the database and did not release it in time."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as recorded on the lock node."""

    owner: str
    host: str
    pid: int
    started_at: str
    idle_s: int

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host}, since {self.started_at}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class PublishLock:
    """The publish lock of one database, as a context manager (see the module doc).

    Args:
        driver: an open driver.
        database: the database whose publishes are serialised.
        wait_s: how long to wait for another holder before :class:`PublishLockedError`.
        heartbeat_s: how often the holder refreshes its heartbeat.
        stale_after_s: a heartbeat older than this makes the lock stale (taken over).
    """

    def __init__(self, driver: neo4j.Driver, database: str, *, wait_s: float = DEFAULT_WAIT_S,
                 heartbeat_s: float = DEFAULT_HEARTBEAT_S, stale_after_s: float = DEFAULT_STALE_AFTER_S):
        self.driver, self.database = driver, database
        self.wait_s, self.heartbeat_s, self.stale_after_s = wait_s, heartbeat_s, stale_after_s
        self.owner = secrets.token_hex(8)
        self.host = socket.gethostname()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def _run(self, name: str, **params: object) -> list[neo4j.Record]:
        records, _, _ = self.driver.execute_query(cypher.load(name), parameters_={"name": LOCK_NAME, **params},
                                                  database_=self.database)
        return records

    def _stale(self, holder: LockHolder) -> bool:
        if holder.idle_s > self.stale_after_s:
            return True
        return holder.host == self.host and not _process_exists(holder.pid)

    def acquire(self) -> None:
        """Take the lock, waiting for another holder (with a message) up to ``wait_s``.

        Raises:
            PublishLockedError: still held by a live run after ``wait_s``.
        """
        try:
            self._run("publish_lock_constraint")
        except neo4j.exceptions.ClientError as exc:  # two first publishes created it at once
            if "AlreadyExists" not in (exc.code or ""):
                raise
        deadline = time.monotonic() + self.wait_s
        waiting_for: str | None = None
        while True:
            row = self._run("publish_lock_acquire", owner=self.owner, host=self.host, pid=os.getpid())[0]
            holder = LockHolder(row["owner"], row["host"], row["pid"], row["started_at"], row["idle_s"])
            if holder.owner == self.owner:
                break
            if self._stale(holder):
                log.warning("taking over the publish lock of database %r from a run that is gone (%s, "
                            "last heartbeat %d s ago)", self.database, holder.describe(), holder.idle_s)
                self._run("publish_lock_release", owner=holder.owner)
                continue
            if time.monotonic() >= deadline:
                raise PublishLockedError(
                    f"another kgrec run is publishing a model into database {self.database!r} "
                    f"({holder.describe()}); waited {self.wait_s:.0f} s. Try again when it has finished. "
                    f"If that run is gone, its lock expires {self.stale_after_s:.0f} s after its last "
                    f"heartbeat ({holder.idle_s} s ago).")
            if waiting_for != holder.owner:
                log.info("another kgrec run is publishing into database %r (%s); waiting for it to finish",
                         self.database, holder.describe())
                waiting_for = holder.owner
            time.sleep(POLL_S)
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="publish-lock-heartbeat", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                held = self._run("publish_lock_heartbeat", owner=self.owner)[0]["held"]
            except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
                log.debug("publish lock heartbeat failed (retrying): %s", exc)
                continue
            if not held:
                log.warning("the publish lock of database %r was taken over; this run cannot activate its "
                            "model", self.database)
                return

    def release(self) -> None:
        """Stop the heartbeat and remove the lock (if this run still holds it)."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        self._run("publish_lock_release", owner=self.owner)

    def __enter__(self) -> "PublishLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc is None:
            self.release()
            return
        try:  # the run's own error is what the user must see; a lock left behind goes stale
            self.release()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as failed:
            log.warning("could not release the publish lock of database %r (%s); it expires by itself",
                        self.database, failed)
