"""Dagster resources: the API endpoint and the warehouse folder.

Both are thin typed wrappers whose job is to turn Dagster configuration into
the connector's own :class:`ClientConfig` and paths; the connector itself
knows nothing about Dagster. The API key is configured as
``EnvVar("OPENAI_API_KEY")``, so Dagster stores the variable's name, not the key.
"""

from __future__ import annotations

import os

from dagster import ConfigurableResource
from pydantic import Field

from connectors.openai_assistants import settings
from connectors.openai_assistants.config import ClientConfig, Secret


class AssistantsApiResource(ConfigurableResource):
    """Where and how to reach an Assistants API (OpenAI, Azure OpenAI or a compatible server)."""

    api_key: str = Field(description="The API key; configure it as EnvVar('OPENAI_API_KEY').", repr=False)
    """Left out of ``repr`` and ``str``, so a logged or printed resource never shows the key."""
    api_key_env: str = Field(default=settings.DEFAULT_API_KEY_ENV,
                             description="Name of the variable holding the key, used in error messages.")
    base_url: str | None = Field(default=None, description="API root; default $OPENAI_BASE_URL, else "
                                 f"{settings.DEFAULT_BASE_URL}.")
    auth_style: str | None = Field(default=None, description="'bearer' (OpenAI) or 'azure' (api-key header, "
                                   "api-version parameter, /openai path); default $ASSISTANTS_AUTH_STYLE or bearer.")
    api_version: str | None = Field(default=None, description="Azure api-version; default $OPENAI_API_VERSION.")
    organization: str | None = Field(default=None, description="OpenAI-Organization header; default $OPENAI_ORG_ID.")
    project: str | None = Field(default=None, description="OpenAI-Project header; default $OPENAI_PROJECT_ID.")
    extra_headers: dict[str, str] = Field(default_factory=dict, description="More headers for every request.")
    concurrency: int = Field(default=settings.DEFAULT_CONCURRENCY, description="Requests in flight at most.")
    requests_per_minute: float | None = Field(default=None, description="Optional cap on request starts.")
    connect_timeout: float = Field(default=settings.CONNECT_TIMEOUT, description="Seconds to connect.")
    read_timeout: float = Field(default=settings.READ_TIMEOUT, description="Seconds to wait for an answer.")
    max_attempts: int = Field(default=settings.DEFAULT_MAX_ATTEMPTS, description="Attempts per request.")
    id_deadline: float = Field(default=settings.DEFAULT_ID_DEADLINE, description="Seconds per ID, retries included.")
    run_deadline: float | None = Field(default=settings.DEFAULT_RUN_DEADLINE,
                                       description="Seconds the whole fetch may take; none by default. Past it "
                                       "the run fails and nothing is written for the date.")
    retry_after_cap: float = Field(default=settings.RETRY_AFTER_CAP,
                                   description="Longest server-requested wait that is obeyed.")
    initial_retry_delay: float = Field(default=settings.INITIAL_RETRY_DELAY,
                                       description="First backoff delay in seconds (doubles per retry).")
    max_retry_delay: float = Field(default=settings.MAX_RETRY_DELAY, description="Longest backoff delay.")
    max_response_bytes: int = Field(default=settings.MAX_RESPONSE_BYTES, description="Largest body accepted.")
    preflight: bool = Field(default=True, description="Probe GET /assistants?limit=1 before fetching IDs.")
    not_found_pattern: str = Field(default=settings.NOT_FOUND_PATTERN,
                                   description="Regex a 404 message must match to mean 'assistant not found'.")

    def client_config(self) -> ClientConfig:
        """The connector's configuration; unset fields fall back to the documented variables."""
        overrides = self.model_dump(exclude={"api_key"})
        return ClientConfig.from_env(api_key=Secret(self.api_key), **overrides)


class WarehouseResource(ConfigurableResource):
    """The folder holding ``parquet/`` and ``assistants.duckdb``."""

    path: str | None = Field(default=None, description="Default $ASSISTANTS_WAREHOUSE, else ./data.")

    def root(self) -> str:
        return self.path or os.environ.get(settings.DEFAULT_WAREHOUSE_ENV) or settings.DEFAULT_WAREHOUSE
