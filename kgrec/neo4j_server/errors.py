"""The one error type of the local-server module; every message says what to do next."""


class ServerError(RuntimeError):
    """The local Neo4j server could not be fetched, configured, started or stopped."""
