"""Planning the API's queries in Neo4j before requests need them, and again after an outage.

Why: a request gives Neo4j its time budget as the transaction timeout, and Neo4j stops
*planning* a query too when that passes, without caching anything. On a freshly started server
(a new JVM, after a restart as after a first start) planning the explanation query alone took
2.9-9 s and the user-state query 1-2 s on this two-core machine (load 3-11), more than a 2 s
budget: every request timed out, the plans were never cached, and the API answered 503 until the
JVM happened to get fast enough. Planned here with no time limit, on a driver of this thread's own,
the plans are cached before (or soon after) the first requests come.

Neo4j keys a cached plan on the query and on the sizes of its string and list parameters by order
of magnitude (see :func:`kgrec.serving.library.plan`), so each query is planned for the shapes
requests give it: ids of 2-10, 1 and 11-100 characters (most common first), lists of one item,
of a page of items and of more. A restarted Neo4j has lost its plans: every request that Neo4j
could not serve (unreachable, or over its budget) asks for another round, which costs little
while the plans are still cached; rounds are at least :data:`ROUND_INTERVAL_S` apart, so a
server that is merely overloaded is not given more work by every request it fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from kgrec.api.errors import NEO4J_UNAVAILABLE
from kgrec.api.neo4j_calls import open_api_driver
from kgrec.api.settings import ApiSettings
from kgrec.serving import library

log = logging.getLogger(__name__)

#: between attempts while Neo4j does not answer
RETRY_S = 1.0
#: between the end of a round and the start of the next
ROUND_INTERVAL_S = 5.0
#: ids of 2-10, 1 and 11-100 characters: the size classes Neo4j plans separately, commonest first
_IDS = ("x" * 5, "x", "x" * 20)
#: a list's items (20 = a live list's length), with an evidence item, its contribution and its
#: channel parts each
_LIVE = 20


def _shapes(user: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every query a route runs for a user id (or item id) of ``user``'s size, with parameters
    shaped like the route's."""
    yield "recommendation_state", {"user_id": user, "k": 10}
    yield "recommendations", {"user_id": user, "k": 10, "item_ids": []}
    for items in (3, 1, _LIVE):  # a page's items without stored paths, one item, a long page
        yield "explain", {"user_id": user, "item_ids": [user] * items, "k": 10, "paths": 3, "draw": False}
    for items in (3, 1, _LIVE):  # the paths computed for those items, kept on their edges
        yield "store_explanations", {"version": user, "rows": [{"user": user, "item": user, "explanations": user}] * items}
    yield "recommendations", {"user_id": user, "k": 1, "item_ids": [user]}
    yield "store_live_recommendations", {
        "user_id": user, "version": user, "items": [user] * _LIVE, "scores": [0.5] * _LIVE,
        "evidence": [[user]] * _LIVE, "weights": [[0.5]] * _LIVE,
        "channels": [{"evidence_channels": [0.5, 0.5], "evidence_links": [user], "evidence_co_raters": [1],
                      "evidence_co_rater": [user]}] * _LIVE,
        "embedding": [0.5] * 64,
        "property": "embedding", "history": 1}
    yield "fallback_recommendations", {"user_id": user, "k": 10}
    for rows in (1, 3):
        yield "missing_items", {"item_ids": [user] * rows}
        yield "record_interactions", {"rows": [{"user_id": user, "item_id": user, "rating": 5.0, "ts": 0,
                                                "weight": 5.0}] * rows}
    yield "node_exists", {"user_id": user, "item_id": None}
    yield "node_exists", {"user_id": None, "item_id": user}
    yield "similar_items", {"item_id": user, "k": 10}


def shapes() -> Iterator[tuple[str, dict[str, Any]]]:
    """(query name, parameters) for every plan the API's requests need, commonest first."""
    yield "active_model", {}
    for user in _IDS:
        yield from _shapes(user)


class PlanWarmUp:
    """A daemon thread that plans :func:`shapes` at start and whenever :meth:`request` asks."""

    def __init__(self, settings: ApiSettings):
        self._settings = settings
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  #: rounds completed (logged)

    def start(self) -> None:
        self._stopping.clear()
        self._wanted.set()
        self._thread = threading.Thread(target=self._run, name="kgrec-plan-warm-up", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Plan again soon: a request could not be served by Neo4j (it may have restarted)."""
        self._wanted.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the query in flight; waits at most ``timeout`` seconds (it is a daemon
        thread, so a query that hangs never keeps the process alive)."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while self._wanted.wait() and not self._stopping.is_set():
            self._wanted.clear()
            try:
                self._round()
                self._stopping.wait(ROUND_INTERVAL_S)
            except NEO4J_UNAVAILABLE:
                self._wanted.set()  # Neo4j is down or starting: the next round waits for it
                self._stopping.wait(RETRY_S)
            except Exception as exc:  # noqa: BLE001 -- a failed warm-up only costs the first requests time
                log.warning("could not plan the API's queries ahead of requests (%s)", exc)

    def _round(self) -> None:
        with open_api_driver(self._settings) as driver:
            for name, params in shapes():
                if self._stopping.is_set():
                    return
                library.plan(driver, self._settings.neo4j.database, name, params)
        self.rounds += 1
        log.info("planned the API's queries (round %d)", self.rounds)
