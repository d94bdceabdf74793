"""Running the (blocking) query library from async routes, within the request's time budget.

The query library is synchronous and uses the driver's managed transactions with retries. Each
call runs in a worker thread; the route awaits it under a deadline, so a request is answered by
the deadline even if Neo4j hangs (503 ``neo4j_timeout``). The same deadline is the query's
transaction timeout in Neo4j, so the server stops working on a query the client no longer
waits for; the abandoned thread ends with it, or by the driver's short connect / acquisition /
retry timeouts set here.

Nothing here caches a connection: the driver is a pool that drops dead connections and opens
new ones, so the service recovers by itself when Neo4j comes back. A call that Neo4j could not
serve tells ``on_failure`` (the app plans its queries again: see :mod:`kgrec.api.plan_warm_up`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import anyio
import neo4j

from kgrec.api.errors import NEO4J_UNAVAILABLE, ApiError
from kgrec.api.settings import ApiSettings

P = ParamSpec("P")
T = TypeVar("T")


def open_api_driver(settings: ApiSettings) -> neo4j.Driver:
    """The process's one driver, with timeouts short enough to fit inside a request."""
    n = settings.neo4j
    return neo4j.GraphDatabase.driver(
        n.uri, auth=(n.user, n.password),
        connection_timeout=settings.neo4j_connection_timeout_s,
        connection_acquisition_timeout=settings.connection_acquisition_timeout_s,
        max_transaction_retry_time=settings.driver_retry_time_s,
        # Schema hints ("label does not exist") are for people writing Cypher, not for a server.
        notifications_min_severity="OFF",
    )


class Neo4jCalls:
    """One request's access to Neo4j: the shared driver, the database, the deadline, and whom to
    tell when Neo4j could not serve a call (unreachable, or over the deadline)."""

    def __init__(self, driver: neo4j.Driver, database: str, timeout_s: float,
                 on_failure: Callable[[], None] = lambda: None):
        self.driver = driver
        self.database = database
        self.deadline = time.monotonic() + timeout_s
        self.on_failure = on_failure

    async def run(self, query: Callable[Concatenate[neo4j.Driver, str, P], T],
                  *args: P.args, **kwargs: P.kwargs) -> T:
        """``query(driver, database, *args, timeout=<time left>, **kwargs)`` in a worker thread,
        by the deadline. The time left also goes to Neo4j as the transaction's timeout, so the
        server ends the query when the client is answered 503, instead of finishing (or
        committing) it for nobody.

        Raises:
            ApiError: 503 ``neo4j_timeout`` when the deadline passes first.
        """
        left = self.deadline - time.monotonic()
        # 0 would mean "no limit" to Neo4j; a spent budget fails at once below anyway
        call = partial(query, self.driver, self.database, *args, timeout=max(left, 0.001), **kwargs)
        try:
            with anyio.fail_after(max(left, 0.0)):
                return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except TimeoutError:
            self.on_failure()
            raise _timeout() from None
        except NEO4J_UNAVAILABLE:
            self.on_failure()
            raise
        except neo4j.exceptions.ClientError as exc:
            if "TransactionTimedOut" in (exc.code or ""):  # the server ended it first
                self.on_failure()
                raise _timeout() from None
            raise


def _timeout() -> ApiError:
    return ApiError(503, "neo4j_timeout", "the graph database did not answer within the request timeout; retry later")
