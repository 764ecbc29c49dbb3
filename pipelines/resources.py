"""Dagster resources: the API endpoint and the warehouse folder.

Both are thin typed wrappers whose job is to turn Dagster configuration into
the connector's own :class:`ClientConfig` and paths; the connector itself
knows nothing about Dagster. The API key is never in Dagster's configuration:
the resource holds the *name* of the variable (``api_key_env``, or the one a
source of the sources file names), and the key is read from the environment
when a run starts, for the source the run's partition names.
"""

from __future__ import annotations

import math
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from assistants_export.connectors.core import settings as warehouse_settings
from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.settings_registry import Setting
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret, default, describe
from assistants_export.connectors.warehouse.location import warehouse_root
from assistants_export.connectors.warehouse.writer_lock import writer_wait

from .sources import ENVIRONMENT_SOURCE, SourceSpec


def _setting(name: str) -> Any:
    """A resource field with :class:`ClientConfig`'s default and help for the setting ``name``."""
    value = default(name)
    if isinstance(value, dict):
        return Field(default_factory=dict, description=describe(name))
    return Field(default=value, description=describe(name))


def _from_environment(setting: Setting) -> Any:
    """A resource field left unset (None) by default: the setting's variable, else its default."""
    return Field(default=None, description=f"{describe(setting.name)} {setting.default_help()}")


class AssistantsApiResource(ConfigurableResource):
    """Where and how to reach an Assistants API (OpenAI, Azure OpenAI or a compatible server).

    Every field's default and description come from
    :class:`~assistants_export.connectors.openai_assistants.config.ClientConfig`; the endpoint and
    identity fields default to None, which means "the documented variable". A source of the sources file
    (:mod:`assistants_export.pipelines.sources`) overrides the endpoint and identity fields with its own settings.
    """

    api_key: str | None = Field(default=None, description="The key itself, for a program that holds one (tests); "
                                "by default it is read when a run starts from the variable api_key_env (or the "
                                "run's source) names, so Dagster never stores it.", repr=False)
    """Left out of ``repr`` and ``str``, so a logged or printed resource never shows the key."""
    api_key_env: str = _setting("api_key_env")
    base_url: str | None = _from_environment(registry.BASE_URL)
    auth_style: str | None = _from_environment(registry.AUTH_STYLE)
    api_version: str | None = _from_environment(registry.API_VERSION)
    organization: str | None = _from_environment(registry.ORGANIZATION)
    project: str | None = _from_environment(registry.PROJECT)
    extra_headers: dict[str, str] = _setting("extra_headers")
    concurrency: int = _setting("concurrency")
    requests_per_minute: float | None = _setting("requests_per_minute")
    connect_timeout: float = _setting("connect_timeout")
    read_timeout: float = _setting("read_timeout")
    request_deadline: float = _setting("request_deadline")
    max_attempts: int = _setting("max_attempts")
    id_deadline: float = _setting("id_deadline")
    run_deadline: float | None = _setting("run_deadline")
    retry_after_cap: float = _setting("retry_after_cap")
    initial_retry_delay: float = _setting("initial_retry_delay")
    max_retry_delay: float = _setting("max_retry_delay")
    max_response_bytes: int = _setting("max_response_bytes")
    preflight: bool = _setting("preflight")
    not_found_pattern: str = _setting("not_found_pattern")
    entra_credential: str | None = _from_environment(registry.ENTRA_CREDENTIAL)
    entra_scope: str | None = _from_environment(registry.ENTRA_SCOPE)

    def client_config(self, source: SourceSpec = ENVIRONMENT_SOURCE) -> ClientConfig:
        """The connector's configuration for ``source``: its own settings over these fields over the documented
        variables. The key comes from the variable the source names, else from ``api_key_env``'s (read now)."""
        fields = self.client_fields()
        overrides = {}
        if self.api_key is not None and source.api_key_env is None:
            overrides["api_key"] = Secret(self.api_key, origin="the api resource's api_key")
        return source.client_config(defaults=fields, overrides=overrides)

    def client_fields(self) -> dict[str, Any]:
        """The fields as client settings. ``run_deadline: null`` says "no deadline", where a None elsewhere means
        "not set here": it is handed on as infinity, which :class:`ClientConfig` takes for no limit."""
        fields = self.model_dump(exclude={"api_key"})
        if fields.get("run_deadline") is None:
            fields["run_deadline"] = math.inf
        return fields


class WarehouseResource(ConfigurableResource):
    """Where the warehouse is: a folder holding ``parquet/`` and ``assistants.duckdb``, or an object-store URI."""

    path: str | None = Field(default=None, description=f"{registry.WAREHOUSE.help} "
                             f"{registry.WAREHOUSE.default_help()}")
    writer_wait: float | None = Field(default=None, description=f"{registry.WRITER_WAIT.help} "
                                      f"{registry.WRITER_WAIT.default_help(f'{warehouse_settings.WRITER_WAIT:g}')}")

    def writer_wait_seconds(self) -> float:
        """:attr:`writer_wait`, else ``$ASSISTANTS_WRITER_WAIT``, else the default (a bad value is one line)."""
        return writer_wait(self.writer_wait)

    def root(self) -> str:
        """The folder as written (``./data`` stays ``./data``; ``file://`` becomes its path), or the URI.

        A location that cannot be a warehouse fails here, in one line, before any request
        (:func:`~assistants_export.connectors.warehouse.location.warehouse_root`, which the commands that run no
        Dagster call themselves).
        """
        return warehouse_root(self.path)
