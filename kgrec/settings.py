"""Every ``KGREC_*`` and ``NEO4J_*`` variable kgrec reads, in one class that reads them all at once.

Why one place: the local server's folder and ports, the Neo4j connection and the API's limits
were read in five modules, each with its own defaults. Now the local server
(:class:`~kgrec.neo4j_server.layout.ServerLayout`), the connection
(:class:`~kgrec.config.Neo4jSettings`) and the API (:class:`~kgrec.api.settings.ApiSettings`,
which extends this class) take their values from :class:`Settings`, built when a command, the
app or a server start needs it, so a variable means the same to every part of one process.
The names and defaults are the ones the README documents.

Example:
    >>> Settings(bolt_port=7688).bolt_port  # doctest: +SKIP
    7688
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Bolt and HTTP ports of the local server when KGREC_BOLT_PORT / KGREC_HTTP_PORT are unset (Neo4j's own)
DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474


class Settings(BaseSettings):
    """kgrec's settings; each field is read from ``KGREC_<FIELD>`` unless it names another variable.

    Empty ``NEO4J_*`` variables count as unset (as compose writes an unset one): see
    :meth:`kgrec.config.Neo4jSettings.from_settings`.
    """

    model_config = SettingsConfigDict(env_prefix="KGREC_", frozen=True, populate_by_name=True)

    # The local Neo4j server (`kgrec neo4j start`) and kgrec's own files.
    home: str | None = Field(None, description="KGREC_HOME: the folder of the local server, its password and "
                                               "the trained models (default $XDG_DATA_HOME/kgrec)")
    xdg_data_home: str | None = Field(None, validation_alias="XDG_DATA_HOME",
                                      description="where KGREC_HOME defaults to (~/.local/share when unset)")
    bolt_port: int = Field(DEFAULT_BOLT_PORT, description="the local server's Bolt port")
    http_port: int = Field(DEFAULT_HTTP_PORT, description="the local server's HTTP (Browser) port")
    neo4j_heap: str = Field("1g", description="the local server's largest Java heap (-Xmx)")
    neo4j_heap_min: str = Field("512m", description="the local server's initial Java heap (-Xms)")
    neo4j_pagecache: str = Field("512m", description="the local server's page cache")
    neo4j_tx_timeout: str = Field("30m", description="the local server's db.transaction.timeout")

    # Where Neo4j is: unset means the local server, with the password generated beside it.
    neo4j_uri: str | None = Field(None, validation_alias="NEO4J_URI")
    neo4j_user: str | None = Field(None, validation_alias="NEO4J_USER")
    neo4j_password: SecretStr | None = Field(None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str | None = Field(None, validation_alias="NEO4J_DATABASE")

    # The HTTP API (`kgrec serve`).
    api_key: SecretStr | None = Field(
        None, description="X-API-Key value the write routes require; unset means writes are refused (403)")
    read_api_key: SecretStr | None = Field(
        None, description="X-API-Key value the read routes require; unset means reads are open. "
                          "The write key is accepted for reads too.")
    request_timeout_s: float = Field(
        5.0, gt=0, description="longest a request may wait on Neo4j before it is answered 503")
    retry_after_s: int = Field(5, ge=1, description="the Retry-After sent with a 503")
    max_body_bytes: int = Field(
        2 * 1024 * 1024, gt=0,
        description="largest request body accepted (413 beyond, before it is read); a full batch of 1000 "
                    "interactions with 256-character ids is about 0.6 MB")
    neo4j_connection_timeout_s: float = Field(
        1.0, gt=0, description="TCP connect timeout towards Neo4j; short so an outage is noticed fast")

    @field_validator("api_key", "read_api_key", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """``KGREC_API_KEY=`` (as compose writes an unset variable) must not become the key
        ``""``, which an empty X-API-Key header would match."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def home_path(self) -> Path:
        """KGREC_HOME, else ``$XDG_DATA_HOME/kgrec`` (``~/.local/share/kgrec``)."""
        if self.home is not None:
            return Path(self.home).expanduser()
        return Path(self.xdg_data_home or str(Path.home() / ".local" / "share")) / "kgrec"
