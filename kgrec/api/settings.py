"""The API's settings: :class:`kgrec.settings.Settings` (where every ``KGREC_*`` variable of the
API is declared, with the Neo4j connection and the models folder) and the driver timings
derived from its request budget.
"""

from __future__ import annotations

from kgrec.settings import Settings


class ApiSettings(Settings):
    """How the HTTP service behaves. Every field can be set as ``KGREC_<FIELD>``; ``neo4j`` is
    resolved from the ``NEO4J_*`` fields unless given (tests point it at their own server)."""

    @property
    def driver_retry_time_s(self) -> float:
        """How long the driver retries a failed transaction: a quarter of the request budget,
        so a request still gets a retry after a dropped connection, and the worker thread behind
        a request that already timed out (see :mod:`kgrec.api.neo4j_calls`) is freed soon."""
        return self.request_timeout_s / 4

    @property
    def connection_acquisition_timeout_s(self) -> float:
        """How long a request may queue for a pooled connection before it gives up."""
        return self.request_timeout_s / 2
