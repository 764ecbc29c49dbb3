"""A Foundry project end to end: Entra ID sign-in through azure-identity against a loopback TLS token endpoint,
the project endpoint with api-version, Foundry's tools, in IDs and discover modes, with tokens that expire mid-run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import pytest
from assistant_rebuild import expected, rebuild

from assistants_export.connectors.core.errors import AuthenticationError, EndpointGoneError
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.sandbox import SandboxServer
from assistants_export.sandbox.entra import TokenServer
from assistants_export.sandbox.foundry import FoundryCatalog

DATE = dt.date(2026, 11, 20)
AGENTS = 24
LIFETIME = 4.0
"""Seconds a token lives: the client renews it after half that, so a run of three seconds outlives its first token
(a shared, busy machine can take over a second between a token's issue and its use, hence not shorter)."""


@pytest.fixture
def tokens(tmp_path, monkeypatch):
    with TokenServer(tmp_path / "tls", lifetime=LIFETIME) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        yield server


@pytest.fixture
def catalog():
    return FoundryCatalog(AGENTS, seed=11)


@pytest.fixture
def project(tokens, catalog):
    with SandboxServer(catalog, auth_style="entra", token_check=tokens.check, latency=0.2) as server:
        yield server


def _config(project: SandboxServer, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {"api_key": Secret(""), "base_url": project.base_url, "auth_style": "entra",
                                 "entra_credential": "environment", "concurrency": 2, "max_attempts": 2,
                                 "initial_retry_delay": 0.01, **overrides}
    return ClientConfig.from_env(**values)  # api_version: the default "v1"


def _every_file_text(root) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("mode", ["ids", "discover"])
def test_a_foundry_project_lands_exactly_through_entra_tokens_that_expire_mid_run(tmp_path, tokens, project,
                                                                                   catalog, mode, caplog):
    caplog.set_level(logging.INFO)
    count = AGENTS
    if mode == "discover":  # two list pages, each answered after more than half a token's life
        count = settings.LIST_PAGE_LIMIT + AGENTS
        catalog = project.catalog = FoundryCatalog(count, seed=11)
        project.latency = LIFETIME * 0.55
    agents = [catalog.build(i) for i in range(count)]
    source = IdSource(discover=True) if mode == "discover" else IdSource(ids=tuple(a["id"] for a in agents))
    root = tmp_path / "warehouse"
    summary = fetch_snapshot(_config(project), source, DATE, root)
    flatten_snapshot(DATE, root)
    load_duckdb(DATE, root)

    assert summary.outcomes == {"ok": count}
    tables = {name: read_arrow(name, warehouse=root, date=DATE).to_pylist()
              for name in ("assistants", "assistant_tools", "assistant_metadata", "assistant_tool_resources")}
    for agent in agents:
        assert rebuild(tables, agent["id"]) == expected(agent), agent["id"]
    assert {t["type"] for t in tables["assistant_tools"]} >= {"bing_grounding", "azure_ai_search", "openapi",
                                                               "connected_agent", "azure_function"}
    # the run outlived its tokens: it got new ones ahead of expiry, and none was refused
    assert tokens.stats.issued >= 2
    assert project.stats.token_refusals == 0
    # no token is written anywhere: the warehouse, the logs
    issued = tokens.all_issued()
    assert issued
    written = _every_file_text(root) + caplog.text
    assert not any(token in written for token in issued)


def test_a_refused_token_gets_one_new_token_and_the_request_goes_through(tmp_path, tokens, project, catalog):
    agent_id = catalog.build(3)["id"]

    async def fetch_twice() -> list[str]:
        async with AssistantsClient(_config(project, entra_credential="environment")) as client:
            first = await client.retrieve(agent_id)
            tokens.revoke_all()  # a rotated key: the token held is refused from now on
            second = await client.retrieve(agent_id)
            return [str(first.outcome), str(second.outcome)]

    assert asyncio.run(fetch_twice()) == ["ok", "ok"]
    assert project.stats.token_refusals == 1


def test_a_credential_that_cannot_sign_in_ends_the_run_before_any_request(tmp_path, tokens, project,
                                                                           monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    with pytest.raises(AuthenticationError) as raised:
        fetch_snapshot(_config(project), IdSource(discover=True), DATE, tmp_path / "w")
    message = str(raised.value)
    assert "\n" not in message
    assert "EnvironmentCredential (entra_credential 'environment')" in message
    assert "AZURE_CLIENT_SECRET" in message
    assert project.stats.total_requests == 0


def test_a_wrong_secret_is_one_line_that_never_shows_it(tmp_path, tokens, project, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sbx~not-the-secret-7c1d")
    with pytest.raises(AuthenticationError) as raised:
        fetch_snapshot(_config(project), IdSource(discover=True), DATE, tmp_path / "w")
    assert "sbx~not-the-secret-7c1d" not in str(raised.value) and tokens.client_secret not in str(raised.value)
    assert project.stats.total_requests == 0


@pytest.mark.parametrize(("change", "says"), [
    ({"api_version": "2099-01-01"}, "api-version"),
    ({"base_url": "/api/projects/someone-else"}, "Project 'someone-else' not found"),
])
def test_a_wrong_api_version_or_project_stops_the_run_in_one_line(tmp_path, tokens, project, change, says):
    if "base_url" in change:
        change = {"base_url": project.base_url.rsplit("/api/", 1)[0] + change["base_url"]}
    with pytest.raises(EndpointGoneError) as raised:
        fetch_snapshot(_config(project, **change), IdSource(ids=("asst_x",)), DATE, tmp_path / "w")
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_agent_is_not_found_and_the_run_goes_on(tmp_path, tokens, project, catalog):
    ids = (catalog.build(0)["id"], "asst_nobodyhome000000000001")
    summary = fetch_snapshot(_config(project), IdSource(ids=ids), DATE, tmp_path / "w")
    assert summary.outcomes == {"ok": 1, "not_found": 1}
    errors = read_arrow("fetch_errors", warehouse=tmp_path / "w", date=DATE).to_pylist()
    assert json.loads(errors[0]["body"])["error"]["message"].startswith("No assistant found")
