"""Failing fast and saying where: a host that refuses connections, or never completes one, ends the run within
the preflight's short connect budget (not the per-ID retry budget), in one line naming host and port; and the
retries show on stderr, one line per retry wave, even when stderr is not a terminal."""

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import time

import httpx
import pytest
from cli_command import CLI

from assistants_export.connectors.core.errors import EndpointUnreachableError
from assistants_export.connectors.openai_assistants import client as client_module
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.client import RETRIES_LOGGER, AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret

KEY = "sk-unreachable-Pw6yT3mK9c"


def closed_port():
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def blackhole():
    """A loopback port whose listening socket never accepts, its one-place queue already full: a connection to
    it is never completed (as with a firewall that drops packets), so connecting times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in (*fillers, server):
        sock.close()


def preflight(port, **overrides):
    async def main():
        config = ClientConfig(api_key=Secret(KEY), base_url=f"http://127.0.0.1:{port}/v1", **overrides)
        async with AssistantsClient(config) as client:
            await client.preflight()

    started = time.monotonic()
    with pytest.raises(EndpointUnreachableError) as raised:
        asyncio.run(main())
    return str(raised.value), time.monotonic() - started


def test_a_refused_connection_ends_the_preflight_within_its_connect_budget(monkeypatch, caplog):
    monkeypatch.setattr(settings, "PREFLIGHT_CONNECT_BUDGET", 1.0)
    monkeypatch.setattr(client_module, "WAVE_SECONDS", 0.2)
    port = closed_port()
    with caplog.at_level(logging.WARNING, logger=RETRIES_LOGGER):
        message, took = preflight(port, id_deadline=300.0, max_attempts=10)
    assert took < 1.0 + 1.0, took  # the per-ID budget (300 s, 10 attempts) would take far longer
    assert message.startswith(f"cannot connect to 127.0.0.1:{port} (connection refused) within 1 s"), message
    assert "\n" not in message and KEY not in message
    waves = [r.getMessage() for r in caplog.records if r.name == RETRIES_LOGGER]
    assert waves and all(line.startswith(f"retrying 127.0.0.1:{port}: ") and "(connection_error x" in line
                         for line in waves), waves
    assert len(waves) < 3, waves  # one line per wave, not one per retry


def test_a_connection_never_completed_times_out_within_the_connect_budget(monkeypatch, blackhole):
    monkeypatch.setattr(settings, "PREFLIGHT_CONNECT_BUDGET", 0.5)
    message, took = preflight(blackhole, connect_timeout=30.0)  # the budget shortens the preflight's connect
    assert took < 0.5 + 1.5, took
    assert message.startswith(f"cannot connect to 127.0.0.1:{blackhole} (no answer to the connection"), message


def test_a_server_that_answers_errors_keeps_the_usual_retries(monkeypatch):
    """The connect budget is for hosts that are not there: a 503 is retried up to max_attempts as ever."""
    answers = []

    def respond(request):
        answers.append(request)
        return httpx.Response(503, text="busy")

    async def main():
        config = ClientConfig(api_key=Secret(KEY), base_url="http://api.test/v1", max_attempts=4)

        async def no_sleep(seconds):
            return None

        async with AssistantsClient(config, transport=httpx.MockTransport(respond), sleep=no_sleep) as client:
            await client.preflight()

    monkeypatch.setattr(settings, "PREFLIGHT_CONNECT_BUDGET", 0.0)
    with pytest.raises(EndpointUnreachableError, match="after 4 attempts"):
        asyncio.run(main())
    assert len(answers) == 4


def test_the_cli_names_host_and_port_in_one_line_and_shows_the_retries_on_a_pipe(tmp_path):
    port = closed_port()
    environment = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    environment.update({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"})
    done = subprocess.run([*CLI, "snapshot", "--ids", "asst_a", "--warehouse", str(tmp_path / "data")],
                          env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr and KEY not in done.stderr
    assert lines[-1].startswith(f"error: cannot connect to 127.0.0.1:{port} (connection refused) within 3 s"), lines
    retries = lines[:-1]
    assert retries and all(line.startswith(f"retrying 127.0.0.1:{port}: ") for line in retries), retries
    assert len(retries) <= 2, retries  # waves, not requests
