"""Each setting is declared once: the Dagster resource, the CLI and the run configs take their defaults from it.

The client's settings are declared by :class:`ClientConfig` (defaults from ``settings.py``, help in
``config.HELP``); the blocking gates by ``settings.py`` through :class:`Gates`. This test fails when a copy
drifts: a resource field, a CLI option or a run-config field whose default (or help) is not the declared one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

import click
import pytest

from assistants_export.connectors import snapshot
from assistants_export.connectors.core import settings as warehouse_settings
from assistants_export.connectors.gates import Gates
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import HELP, ClientConfig, Secret, default, describe
from assistants_export.pipelines.cli import all_commands
from assistants_export.pipelines.config import HistoryConfig, SnapshotConfig
from assistants_export.pipelines.resources import AssistantsApiResource

CLIENT_FIELDS = [f.name for f in dataclasses.fields(ClientConfig)]

FROM_ENVIRONMENT = {"base_url", "auth_style", "api_version", "organization", "project", "entra_credential",
                    "entra_scope"}
"""Resource fields and CLI options left None by default: the documented variable decides, then ClientConfig."""

CLI_SETTINGS = {"--base-url": "base_url", "--concurrency": "concurrency", "--requests-per-minute":
                "requests_per_minute", "--auth-style": "auth_style", "--api-version": "api_version",
                "--api-key-env": "api_key_env", "--max-attempts": "max_attempts", "--run-deadline": "run_deadline"}
"""``snapshot`` options that set a ClientConfig field of the same name (``--no-preflight`` is below)."""


def _option(command: str, name: str) -> click.Option:
    found = [p for p in all_commands()[command].params if name in p.opts]
    assert len(found) == 1 and isinstance(found[0], click.Option), f"{command} {name}"
    return found[0]


def _click_default(command: str, name: str) -> object:
    value = _option(command, name).get_default(click.Context(all_commands()[command]), call=True)
    return None if value is getattr(click.core, "UNSET", object()) else value


def test_every_client_setting_has_a_default_and_help_declared_once():
    assert set(HELP) == set(CLIENT_FIELDS)
    for name in CLIENT_FIELDS:
        if name != "api_key":
            assert default(name) == getattr(ClientConfig(api_key=Secret("sk-test")), name), name


@pytest.mark.parametrize("name", [n for n in CLIENT_FIELDS if n != "api_key"])
def test_the_resource_takes_the_client_default_and_help(name):
    field = AssistantsApiResource.model_fields[name]
    value = field.get_default(call_default_factory=True)
    if name in FROM_ENVIRONMENT:
        assert value is None
    else:
        assert value == default(name) and type(value) is type(default(name))
    assert field.description is not None and field.description.startswith(describe(name))


def test_the_resource_has_exactly_the_client_settings():
    assert set(AssistantsApiResource.model_fields) == set(CLIENT_FIELDS)


@pytest.mark.parametrize(("option", "name"), sorted(CLI_SETTINGS.items()))
def test_the_snapshot_options_take_the_client_default_and_help(option, name):
    value = _click_default("snapshot", option)
    assert value is None if name in FROM_ENVIRONMENT else value == default(name)
    assert describe(name) in (_option("snapshot", option).help or "")


def test_no_preflight_is_off_by_default_because_preflight_is_on():
    assert default("preflight") is True and _click_default("snapshot", "--no-preflight") is False


def test_the_gates_are_declared_once():
    gates = Gates()
    for value, where in [
        (SnapshotConfig().max_failed_share, "SnapshotConfig.max_failed_share"),
        (_click_default("snapshot", "--max-failed-share"), "snapshot --max-failed-share"),
    ]:
        assert value == gates.max_failed_share == warehouse_settings.DEFAULT_MAX_FAILED_SHARE, where
    for value, where in [
        (SnapshotConfig().mass_deletion_threshold, "SnapshotConfig.mass_deletion_threshold"),
        (HistoryConfig().mass_deletion_threshold, "HistoryConfig.mass_deletion_threshold"),
        (_click_default("snapshot", "--mass-deletion-threshold"), "snapshot --mass-deletion-threshold"),
        (_click_default("backfill", "--mass-deletion-threshold"), "backfill --mass-deletion-threshold"),
    ]:
        assert value == gates.mass_deletion_threshold == warehouse_settings.DEFAULT_MASS_DELETION_THRESHOLD, where


def test_the_batch_size_is_declared_once():
    for function in (snapshot.fetch_snapshot, snapshot.flatten_snapshot):
        assert inspect.signature(function).parameters["batch_size"].default == warehouse_settings.BATCH_SIZE
    assert SnapshotConfig().batch_size == warehouse_settings.BATCH_SIZE


def test_the_http_client_uses_every_declared_timeout():
    async def timeouts():
        async with AssistantsClient(ClientConfig(api_key=Secret("sk-test"), read_timeout=7.0)) as client:
            assert client._http is not None
            return client._http.timeout

    timeout = asyncio.run(timeouts())
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (
        settings.CONNECT_TIMEOUT, 7.0, settings.WRITE_TIMEOUT, settings.POOL_TIMEOUT)
