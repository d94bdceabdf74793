"""The API's settings: one class, read from the environment once per process.

Neo4j connection details come from :class:`kgrec.config.Neo4jSettings` (the ``NEO4J_*``
variables docker-compose uses, or the local server's generated password), so the CLI, the
engine and the API always agree on which database they talk to. Everything else is
``KGREC_*``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgrec.config import Neo4jSettings


class ApiSettings(BaseSettings):
    """How the HTTP service behaves. Every field can be set as ``KGREC_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="KGREC_", frozen=True)

    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings.from_env, exclude=True, repr=False,
                                 description="where Neo4j is (from NEO4J_*; not read as KGREC_NEO4J)")
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
    def driver_retry_time_s(self) -> float:
        """How long the driver retries a failed transaction: a quarter of the request budget,
        so a request still gets a retry after a dropped connection, and the worker thread behind
        a request that already timed out (see :mod:`kgrec.api.neo4j_calls`) is freed soon."""
        return self.request_timeout_s / 4

    @property
    def connection_acquisition_timeout_s(self) -> float:
        """How long a request may queue for a pooled connection before it gives up."""
        return self.request_timeout_s / 2
