"""The connection to Neo4j: where it is (from :mod:`kgrec.settings`) and one driver.

The variable names are the ones docker-compose uses too: ``NEO4J_URI``, ``NEO4J_USER``,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``. When they are unset, kgrec talks to the local server
that ``kgrec neo4j start`` runs, using the generated password stored beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgrec.errors import KgrecError

if TYPE_CHECKING:
    import neo4j

    from kgrec.settings import Settings


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
    def from_settings(cls, settings: "Settings") -> "Neo4jSettings":
        """The ``NEO4J_*`` values of ``settings``; an empty one counts as unset, and unset ones
        fall back to the local server of ``settings``' KGREC_HOME and ports (use
        :attr:`Settings.neo4j <kgrec.settings.Settings.neo4j>`, which resolves this once)."""
        layout = settings.layout
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        if not password:
            if not layout.password_file.exists():
                raise ConfigurationError(
                    "NEO4J_PASSWORD is not set and no local server password was found at "
                    f"{layout.password_file}; run `kgrec neo4j start` or set NEO4J_URI/NEO4J_PASSWORD"
                )
            password = layout.password_file.read_text().strip()
        return cls(
            uri=settings.neo4j_uri or layout.bolt_uri,
            user=settings.neo4j_user or "neo4j",
            password=password,
            database=settings.neo4j_database or "neo4j",
        )


def open_driver(settings: Neo4jSettings) -> neo4j.Driver:
    """Open one driver (a connection pool); callers share it and close it when done.

    Server notifications are off: they are hints for a person writing Cypher ("label `Model`
    does not exist" on a first run, "constraint already exists" on every load), and the driver
    logs each one with the whole query text, which buried kgrec's progress lines on a first run.
    The driver is imported here, not at the top: :mod:`kgrec.settings` imports this module, and
    reading the settings should not cost the driver's import.
    """
    import neo4j

    return neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password),
                                      notifications_min_severity="OFF")
