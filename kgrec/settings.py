"""Every ``KGREC_*`` and ``NEO4J_*`` variable kgrec reads, in one class that reads them all at once.

Why one place, read once: the local server's folder and ports, the Neo4j connection, the models
folder and the API's limits were read in a dozen places, each reading the environment again,
so the settings handed to the app did not decide, for example, where it read checkpoints.
Now :func:`read_settings` is the only reading of the environment: ``kgrec`` calls it once in
:func:`kgrec.cli.main` and the app once in :func:`kgrec.api.app.create_app`, and everything
below takes the :class:`Settings` it is given: the local server's :attr:`Settings.layout`, the
Neo4j connection :attr:`Settings.neo4j`, the :attr:`Settings.models_dir`. The names and
defaults are the ones the README documents.

Example:
    >>> settings = Settings(home="/tmp/kgrec", bolt_port=7688)
    >>> settings.layout.bolt_uri, str(settings.models_dir)
    ('bolt://127.0.0.1:7688', '/tmp/kgrec/models')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgrec.config import ConfigurationError, Neo4jSettings
from kgrec.neo4j_server.layout import DEFAULT_BOLT_PORT, DEFAULT_HTTP_PORT, ServerLayout


class Settings(BaseSettings):
    """kgrec's settings; each field is read from ``KGREC_<FIELD>`` unless it names another variable.

    Empty ``NEO4J_*`` variables count as unset (as compose writes an unset one): see
    :meth:`kgrec.config.Neo4jSettings.from_settings`. ``neo4j`` gives the connection directly
    (tests point it at their own server); otherwise it is resolved from the ``NEO4J_*`` fields on
    first use, not here: ``kgrec neo4j start`` must work before the local password exists.
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
    java_home: str | None = Field(None, validation_alias="JAVA_HOME",
                                  description="the JDK the local server runs on (else `java` on PATH)")

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

    # Explanations phrased by a language model (`?phrase=true`, `kgrec explain --phrase`).
    llm_enabled: bool = Field(True, description="false: never ask a language model (every path keeps its "
                                                "template sentence, and says so)")
    llm_url: str | None = Field(None, description="an OpenAI-compatible endpoint (e.g. http://localhost:11434/v1 "
                                                  "for Ollama); unset means the bundled model of the llm extra")
    llm_model: str = Field("default", description="the model name sent to KGREC_LLM_URL")
    llm_api_key: SecretStr | None = Field(None, description="the bearer key for KGREC_LLM_URL, if it needs one")
    llm_budget_s: float = Field(2.0, gt=0, description="longest an API request waits for phrases; the others get "
                                                       "the template now and their phrase on a later request")
    llm_timeout_s: float = Field(30.0, gt=0, description="longest the model may take for one phrase")

    _neo4j: Neo4jSettings | None = PrivateAttr(None)

    def __init__(self, neo4j: Neo4jSettings | None = None, **values: Any) -> None:
        super().__init__(**values)
        self._neo4j = neo4j

    @field_validator("api_key", "read_api_key", "llm_url", "llm_api_key", mode="before")
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

    @property
    def models_dir(self) -> Path:
        """Where ``kgrec train`` saves published models and the API reads them: ``<home>/models``."""
        return self.home_path / "models"

    @property
    def layout(self) -> ServerLayout:
        """The local server of this home and these ports (``kgrec neo4j start``)."""
        return ServerLayout(home=self.home_path, bolt_port=self.bolt_port, http_port=self.http_port)

    @property
    def neo4j(self) -> Neo4jSettings:
        """Where Neo4j is: the ``NEO4J_*`` values, else the local server of :attr:`layout`.

        Raises:
            ConfigurationError: no password set and no local server password file.
        """
        if self._neo4j is None:
            self._neo4j = Neo4jSettings.from_settings(self)
        return self._neo4j


AnySettings = TypeVar("AnySettings", bound=Settings)


def read_settings(kind: type[AnySettings] = Settings) -> AnySettings:  # type: ignore[assignment]
    """Read the environment: the one place kgrec does, for the command and for the app.

    Raises:
        ConfigurationError: a variable has a value of the wrong kind, named in one line
            (``KGREC_BOLT_PORT: Input should be a valid integer``), not pydantic's report.
    """
    try:
        return kind()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(kind, str(error['loc'][0]))}: {error['msg']}" for error in exc.errors())
        raise ConfigurationError(f"invalid setting: {problems}") from None


def _variable(kind: type[Settings], field: str) -> str:
    """The environment variable of ``field``: its alias, else ``KGREC_<FIELD>``."""
    info = kind.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else f"KGREC_{field.upper()}"
