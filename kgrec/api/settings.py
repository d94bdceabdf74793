"""The API's settings: :class:`kgrec.settings.Settings` (where every ``KGREC_*`` variable of the
API is declared) and the Neo4j connection taken from the same reading of the environment.

Neo4j connection details are :class:`kgrec.config.Neo4jSettings` (the ``NEO4J_*`` variables
docker-compose uses, or the local server's generated password), so the CLI, the engine and the
API always agree on which database they talk to.
"""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr

from kgrec.config import Neo4jSettings
from kgrec.settings import Settings


class ApiSettings(Settings):
    """How the HTTP service behaves. Every field can be set as ``KGREC_<FIELD>``; ``neo4j`` is
    resolved from the ``NEO4J_*`` fields unless given (tests point it at their own server)."""

    _neo4j: Neo4jSettings = PrivateAttr()

    def __init__(self, neo4j: Neo4jSettings | None = None, **values: Any) -> None:
        super().__init__(**values)
        self._neo4j = neo4j if neo4j is not None else Neo4jSettings.from_settings(self)

    @property
    def neo4j(self) -> Neo4jSettings:
        """Where Neo4j is."""
        return self._neo4j

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
