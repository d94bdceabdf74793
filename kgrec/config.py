"""Connection settings, read once from the environment.

The variable names are the ones docker-compose uses too: ``NEO4J_URI``, ``NEO4J_USER``,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``. When they are unset, kgrec talks to the local server
that ``kgrec neo4j start`` runs, using the generated password stored beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import neo4j

from kgrec.errors import KgrecError
from kgrec.neo4j_server.layout import ServerLayout


class ConfigurationError(KgrecError, RuntimeError):
    """Settings are missing or contradictory; the message says which variable to set."""


@dataclass(frozen=True)
class Neo4jSettings:
    """Where and how to reach Neo4j."""

    uri: str
    user: str
    password: str
    database: str

    @classmethod
    def from_env(cls) -> "Neo4jSettings":
        """Read the ``NEO4J_*`` variables, falling back to the local server kgrec manages."""
        layout = ServerLayout.from_env()
        password = os.environ.get("NEO4J_PASSWORD") or None  # empty means unset
        if password is None:
            if not layout.password_file.exists():
                raise ConfigurationError(
                    "NEO4J_PASSWORD is not set and no local server password was found at "
                    f"{layout.password_file}; run `kgrec neo4j start` or set NEO4J_URI/NEO4J_PASSWORD"
                )
            password = layout.password_file.read_text().strip()
        return cls(
            uri=os.environ.get("NEO4J_URI") or layout.bolt_uri,
            user=os.environ.get("NEO4J_USER") or "neo4j",
            password=password,
            database=os.environ.get("NEO4J_DATABASE") or "neo4j",
        )


def open_driver(settings: Neo4jSettings | None = None) -> neo4j.Driver:
    """Open one driver (a connection pool); callers share it and close it when done.

    Server notifications are off: they are hints for a person writing Cypher ("label `Model`
    does not exist" on a first run, "constraint already exists" on every load), and the driver
    logs each one with the whole query text, which buried kgrec's progress lines on a first run.
    """
    settings = settings or Neo4jSettings.from_env()
    return neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password),
                                      notifications_min_severity="OFF")
