"""The one error type of the local-server module; every message says what to do next."""

from kgrec.errors import KgrecError


class ServerError(KgrecError, RuntimeError):
    """The local Neo4j server could not be fetched, configured, started or stopped."""
