"""The sandbox server over real loopback HTTP: API behaviour, auth, paging, faults, stats, CLI."""

from __future__ import annotations

import http.client
import json
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistants_export.sandbox.faults import Fault, FaultPlan
from assistants_export.sandbox.fixtures import Catalog, GeneratedCatalog, StaticCatalog, bundled_assistants
from assistants_export.sandbox.server import SandboxServer, mask_key

pytestmark = pytest.mark.integration

# One TLS context for every client: httpx builds a new one (loading CA certificates, ~50 ms) per
# Client otherwise, although these clients only ever speak plain HTTP.
TLS = ssl.create_default_context()
KEY = "sk-sandbox"
AUTH = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assistants() -> list[dict[str, Any]]:
    return bundled_assistants()


@contextmanager
def running(
    catalog: Catalog, *, headers: dict[str, str] | None = None, timeout: float = 5, **options: Any
) -> Iterator[tuple[SandboxServer, httpx.Client]]:
    """A started server and a client pointed at it; both closed on exit."""
    with (
        SandboxServer(catalog, **options) as server,
        httpx.Client(
            base_url=server.base_url, headers=AUTH if headers is None else headers, timeout=timeout, verify=TLS
        ) as client,
    ):
        yield server, client


@pytest.fixture
def sandbox(assistants: list[dict[str, Any]]) -> Iterator[tuple[SandboxServer, httpx.Client]]:
    with running(StaticCatalog(assistants)) as pair:
        yield pair


@pytest.fixture
def client(sandbox: tuple[SandboxServer, httpx.Client]) -> httpx.Client:
    return sandbox[1]


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


# --- Retrieve and routing -------------------------------------------------------------


def test_retrieve_returns_the_fixture_object(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    chosen = [
        assistants[0],
        next(a for a in assistants if len(a["instructions"] or "") == 256_000),
        next(a for a in assistants if len(a["tools"]) == 128),
        next(a for a in assistants if not (a["name"] or "x").isascii()),
    ]
    for assistant in chosen:
        response = client.get(f"/assistants/{assistant['id']}")
        assert response.status_code == 200
        assert response.json() == assistant
        assert response.headers["content-type"] == "application/json"
        assert int(response.headers["content-length"]) == len(response.content)
        assert response.headers["x-request-id"].startswith("req_")


def test_unknown_assistant_is_404(client: httpx.Client) -> None:
    response = client.get("/assistants/asst_doesnotexist")
    assert response.status_code == 404
    assert _error(response) == {
        "message": "No assistant found with id 'asst_doesnotexist'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_id_is_percent_decoded_before_lookup(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    assert _error(client.get("/assistants/asst_a%2Fb"))["message"] == "No assistant found with id 'asst_a/b'."
    encoded = "%61" + assistants[0]["id"][1:]
    assert client.get(f"/assistants/{encoded}").json()["id"] == assistants[0]["id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/whatever"),
        ("GET", "/v1/assistants/asst_a/files"),
        ("GET", "/v1/assistants/"),
        ("GET", "/assistants"),
        ("POST", "/v1/assistants"),
        ("DELETE", "/v1/assistants/asst_abc"),
    ],
)
def test_other_paths_and_methods_are_invalid_urls(client: httpx.Client, method: str, path: str) -> None:
    url = httpx.URL(client.base_url).copy_with(raw_path=path.encode())
    response = client.request(method, url, content=b'{"name": "x"}' if method == "POST" else None)
    assert response.status_code == 404
    assert _error(response)["message"] == f"Invalid URL ({method} {path})"


def test_head_gets_headers_without_a_body(client: httpx.Client) -> None:
    response = client.head("/assistants")
    assert response.status_code == 404 and response.content == b""


def test_connection_is_kept_alive_across_requests_with_bodies(
    sandbox: tuple[SandboxServer, httpx.Client], assistants: list[dict[str, Any]]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox[0].port, timeout=5)
    try:
        connection.request("POST", "/v1/assistants", body=b"x" * 100_000, headers=AUTH)
        assert connection.getresponse().read()
        sock = connection.sock
        connection.request("GET", f"/v1/assistants/{assistants[0]['id']}", headers=AUTH)
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read()) == assistants[0]
        assert connection.sock is sock
    finally:
        connection.close()


# --- Auth and the beta header --------------------------------------------------------------


def test_missing_key_is_401(client: httpx.Client) -> None:
    response = client.get("/assistants", headers={"Authorization": ""})
    assert response.status_code == 401
    error = _error(response)
    assert error["message"].startswith("You didn't provide an API key.")
    assert (error["type"], error["code"]) == ("invalid_request_error", None)


@pytest.mark.parametrize("wrong", ["sk-wrong-0123456789abcdef", "sk-proj-" + "Z" * 120, "zq7"])
def test_wrong_key_is_401_and_never_echoed(client: httpx.Client, wrong: str) -> None:
    response = client.get("/assistants", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "invalid_api_key"
    assert error["message"] == (
        f"Incorrect API key provided: {mask_key(wrong)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert wrong not in response.text and KEY not in response.text


def test_mask_key_keeps_only_the_ends() -> None:
    assert mask_key("sk-abcdefghijklmnopqrstuvwxyz") == "sk-" + "*" * 22 + "wxyz"
    assert mask_key("short-key") == "*********"


def test_beta_header_is_required_after_auth(client: httpx.Client) -> None:
    for headers in ({"OpenAI-Beta": ""}, {"OpenAI-Beta": "assistants=v1"}):
        response = client.get("/assistants", headers=headers)
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "invalid_beta" and "OpenAI-Beta: assistants=v2" in error["message"]
    assert client.get("/assistants", headers={"OpenAI-Beta": "realtime=v1, assistants=v2"}).status_code == 200
    no_auth_no_beta = client.get("/assistants", headers={"Authorization": "", "OpenAI-Beta": ""})
    assert no_auth_no_beta.status_code == 401


# --- Listing ----------------------------------------------------------------------------------


def _walk(client: httpx.Client, order: str, limit: int) -> list[str]:
    ids: list[str] = []
    params: dict[str, str | int] = {"order": order, "limit": limit}
    while True:
        body = client.get("/assistants", params=params).json()
        assert body["object"] == "list" and len(body["data"]) <= limit
        ids += [item["id"] for item in body["data"]]
        assert (body["first_id"], body["last_id"]) == (body["data"][0]["id"], body["data"][-1]["id"])
        if not body["has_more"]:
            return ids
        params["after"] = body["last_id"]


def test_list_defaults_to_20_newest_first(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    body = client.get("/assistants").json()
    assert [item["id"] for item in body["data"]] == [a["id"] for a in assistants[::-1][:20]]
    assert body["data"][0] == assistants[-1]
    assert body["has_more"] is True


def test_list_pages_ascending_and_descending(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    ascending = [a["id"] for a in assistants]
    assert _walk(client, "asc", 25) == ascending
    assert _walk(client, "desc", 100) == ascending[::-1]


def test_list_before_pages_backwards(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    ascending = [a["id"] for a in assistants]
    body = client.get("/assistants", params={"order": "asc", "limit": 10, "before": ascending[25]}).json()
    assert [item["id"] for item in body["data"]] == ascending[15:25] and body["has_more"] is True
    body = client.get("/assistants", params={"order": "asc", "limit": 10, "before": ascending[5]}).json()
    assert [item["id"] for item in body["data"]] == ascending[:5] and body["has_more"] is False


def test_list_past_the_end_is_empty(client: httpx.Client, assistants: list[dict[str, Any]]) -> None:
    body = client.get("/assistants", params={"order": "asc", "after": assistants[-1]["id"]}).json()
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_list_rejects_bad_limits(client: httpx.Client, limit: str) -> None:
    response = client.get("/assistants", params={"limit": limit})
    assert response.status_code == 400
    error = _error(response)
    assert (error["param"], error["type"]) == ("limit", "invalid_request_error")


def test_list_accepts_limit_bounds() -> None:
    with running(GeneratedCatalog(150)) as (_, client):
        for limit in (1, 100):
            assert len(client.get("/assistants", params={"limit": limit}).json()["data"]) == limit


@pytest.mark.parametrize(
    ("params", "param"),
    [({"order": "sideways"}, "order"), ({"after": "asst_nope"}, "after"), ({"before": "asst_nope"}, "before")],
)
def test_list_rejects_bad_order_and_unknown_cursors(client: httpx.Client, params: dict[str, str], param: str) -> None:
    response = client.get("/assistants", params=params)
    assert response.status_code == 400 and _error(response)["param"] == param


# --- Azure mode, gone, catalog swap, latency -----------------------------------------------


def test_azure_mode(assistants: list[dict[str, Any]]) -> None:
    headers = {"api-key": KEY, "OpenAI-Beta": "assistants=v2"}
    with running(StaticCatalog(assistants), auth_style="azure", headers=headers) as (server, client):
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        version = {"api-version": "2024-05-01-preview"}
        target = f"/openai/assistants/{assistants[0]['id']}"
        assert client.get(target, params=version).json() == assistants[0]
        assert len(client.get("/openai/assistants", params={**version, "limit": 3}).json()["data"]) == 3
        missing = client.get(target)
        assert missing.status_code == 400
        assert _error(missing)["message"] == "Missing required query parameter: api-version"
        assert client.get(target, params={"api-version": "1999-01-01"}).status_code == 400
        wrong = client.get(target, params=version, headers={"api-key": "sk-wrong-0123456789"})
        assert wrong.status_code == 401 and "sk-wrong-0123456789" not in wrong.text
        bearer = client.get(target, params=version, headers={"api-key": "", "Authorization": f"Bearer {KEY}"})
        assert bearer.status_code == 401
        no_beta = client.get(target, params=version, headers={"OpenAI-Beta": ""})
        assert _error(no_beta)["code"] == "invalid_beta"
        assert client.get(f"/v1/assistants/{assistants[0]['id']}", params=version).status_code == 404


def test_gone_answers_invalid_url_everywhere(assistants: list[dict[str, Any]]) -> None:
    with running(StaticCatalog(assistants), gone=True) as (_, client):
        path = f"/v1/assistants/{assistants[0]['id']}"
        response = client.get(f"/assistants/{assistants[0]['id']}", headers={"Authorization": ""})
        assert response.status_code == 404 and _error(response)["message"] == f"Invalid URL (GET {path})"
        assert _error(client.get("/assistants"))["message"] == "Invalid URL (GET /v1/assistants)"


def test_catalog_can_be_swapped_while_running(
    sandbox: tuple[SandboxServer, httpx.Client], assistants: list[dict[str, Any]]
) -> None:
    server, client = sandbox
    assert client.get(f"/assistants/{assistants[10]['id']}").status_code == 200
    server.catalog = StaticCatalog(assistants[:3])
    assert client.get(f"/assistants/{assistants[10]['id']}").status_code == 404
    assert len(client.get("/assistants").json()["data"]) == 3


def test_latency_delays_every_answer(assistants: list[dict[str, Any]]) -> None:
    with running(StaticCatalog(assistants), latency=0.15) as (_, client):
        started = time.monotonic()
        assert client.get("/nothing-here").status_code == 404
        assert time.monotonic() - started >= 0.15


def test_generated_catalog_is_served(assistants: list[dict[str, Any]]) -> None:
    catalog = GeneratedCatalog(250, seed=2)
    with running(catalog) as (_, client):
        body = client.get("/assistants", params={"limit": 100, "order": "asc"}).json()
        assert body["first_id"] == next(catalog.ids()) and body["has_more"] is True
        assert client.get(f"/assistants/{body['last_id']}").json() == body["data"][-1]


def test_stop_drops_kept_alive_connections(assistants: list[dict[str, Any]]) -> None:
    with httpx.Client(headers=AUTH, timeout=2, verify=TLS) as client:
        with SandboxServer(StaticCatalog(assistants)) as server:
            url = f"{server.base_url}/assistants"
            assert client.get(url).status_code == 200
        with pytest.raises(httpx.TransportError):
            client.get(url)


def test_only_loopback_hosts_are_accepted(assistants: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(StaticCatalog(assistants), host="0.0.0.0")


# --- Faults ---------------------------------------------------------------------------------


def _faulty(assistants: list[dict[str, Any]], plan: FaultPlan, **options: Any) -> Any:
    return running(StaticCatalog(assistants), faults=plan, **options)


@pytest.mark.parametrize(
    ("fault", "status", "headers"),
    [
        (Fault.RATE_LIMIT, 429, {"retry-after": "2"}),
        (Fault.RATE_LIMIT_MS, 429, {"retry-after-ms": "250"}),
        (Fault.SERVER_ERROR, 500, {}),
        (Fault.BAD_GATEWAY, 502, {}),
        (Fault.UNAVAILABLE, 503, {}),
        (Fault.NO_RETRY, 500, {"x-should-retry": "false"}),
    ],
)
def test_status_faults_then_recovery(
    assistants: list[dict[str, Any]], fault: Fault, status: int, headers: dict[str, str]
) -> None:
    target = assistants[4]
    plan = FaultPlan(scripted={target["id"]: [fault, None]}, retry_after_seconds=2, retry_after_ms=250)
    with _faulty(assistants, plan) as (server, client):
        failed = client.get(f"/assistants/{target['id']}")
        assert failed.status_code == status
        assert headers.items() <= failed.headers.items()
        error = _error(failed)
        if status == 429:
            assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
            assert ("retry-after" in failed.headers) == (fault is Fault.RATE_LIMIT)
        assert client.get(f"/assistants/{target['id']}").json() == target
        assert server.stats.faults_injected == Counter({fault: 1})


def test_reset_fault_aborts_the_connection(assistants: list[dict[str, Any]]) -> None:
    target = assistants[2]
    with _faulty(assistants, FaultPlan(scripted={target["id"]: [Fault.RESET]})) as (server, client):
        with pytest.raises(httpx.ReadError):
            client.get(f"/assistants/{target['id']}")
        assert client.get(f"/assistants/{target['id']}").json() == target
        assert 0 not in server.stats.status_counts


def test_truncated_fault_sends_half_the_body(assistants: list[dict[str, Any]]) -> None:
    target = assistants[2]
    with _faulty(assistants, FaultPlan(scripted={target["id"]: [Fault.TRUNCATED]})) as (_, client):
        with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
            client.get(f"/assistants/{target['id']}")
        assert client.get(f"/assistants/{target['id']}").json() == target


@pytest.mark.timeout(120)
def test_hang_fault_trips_the_client_read_timeout(assistants: list[dict[str, Any]]) -> None:
    target = assistants[2]
    # The hang outlasts the test's own timeout, so the test can only pass if the client's read timeout ends
    # the first attempt and stop() wakes the handler still hanging on it instead of waiting.
    plan = FaultPlan(scripted={target["id"]: [Fault.HANG]}, hang_seconds=3600)
    with _faulty(assistants, plan, timeout=2) as (server, client):
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"/assistants/{target['id']}")
        assert client.get(f"/assistants/{target['id']}").json() == target
        assert server.stats.faults_injected == Counter({Fault.HANG: 1})


def test_html_fault_is_a_proxy_page(assistants: list[dict[str, Any]]) -> None:
    target = assistants[2]
    with _faulty(assistants, FaultPlan(scripted={target["id"]: [Fault.HTML]})) as (_, client):
        response = client.get(f"/assistants/{target['id']}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert "<h1>502 Bad Gateway</h1>" in response.text
        with pytest.raises(json.JSONDecodeError):
            response.json()


def test_invalid_and_always_fail_faults_persist(assistants: list[dict[str, Any]]) -> None:
    broken, failing = assistants[5], assistants[6]
    plan = FaultPlan(invalid_ids=frozenset({broken["id"]}), always_fail_ids=frozenset({failing["id"]}))
    with _faulty(assistants, plan) as (server, client):
        for _ in range(3):
            body = client.get(f"/assistants/{broken['id']}").json()
            assert "model" not in body and body == {k: v for k, v in broken.items() if k != "model"}
            assert client.get(f"/assistants/{failing['id']}").status_code == 500
        assert server.stats.faults_injected == Counter({Fault.INVALID: 3, Fault.ALWAYS_FAIL: 3})


def test_faults_apply_only_to_authorised_retrieves(assistants: list[dict[str, Any]]) -> None:
    target = assistants[1]
    with _faulty(assistants, FaultPlan(scripted={target["id"]: [Fault.SERVER_ERROR]})) as (server, client):
        assert client.get(f"/assistants/{target['id']}", headers={"Authorization": ""}).status_code == 401
        assert client.get(f"/assistants/{target['id']}", headers={"OpenAI-Beta": ""}).status_code == 400
        assert client.get("/assistants").status_code == 200
        assert client.get(f"/assistants/{target['id']}").status_code == 500
        assert server.stats.requests_by_id[target["id"]] == 1


def test_rate_faults_hit_the_hashed_ids_once(assistants: list[dict[str, Any]]) -> None:
    plan = FaultPlan(rate=0.5, kinds=(Fault.UNAVAILABLE,), seed=3)
    ids = [a["id"] for a in assistants[:30]]
    with _faulty(assistants, plan) as (_, client):
        first = {i for i in ids if client.get(f"/assistants/{i}").status_code == 503}
        assert all(client.get(f"/assistants/{i}").status_code == 200 for i in ids)
    assert first == {i for i in ids if plan.rate_fault(i) is not None}
    assert 0 < len(first) < len(ids)


# --- FaultPlan (pure) ------------------------------------------------------------------------

IDS = [f"asst_{n:024d}" for n in range(3_000)]


def test_fault_plan_is_deterministic_and_near_its_rate() -> None:
    kinds = (Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.RESET)

    def faulted(seed: int) -> dict[str, Fault]:
        plan = FaultPlan(rate=0.33, kinds=kinds, seed=seed)
        return {i: kind for i in IDS if (kind := plan.fault_for(i, 1)) is not None}

    first = faulted(7)
    assert first == faulted(7)
    assert first != faulted(8)
    assert 0.28 <= len(first) / len(IDS) <= 0.38
    assert set(first.values()) == set(kinds)
    plan = FaultPlan(rate=0.33, kinds=kinds, seed=7)
    assert all(plan.fault_for(i, 2) is None for i in first)


def test_persistent_kinds_repeat_on_every_attempt() -> None:
    plan = FaultPlan(rate=1.0, kinds=(Fault.INVALID,))
    assert [plan.fault_for(IDS[0], attempt) for attempt in (1, 2, 9)] == [Fault.INVALID] * 3


def test_fault_plan_precedence() -> None:
    plan = FaultPlan(
        rate=1.0,
        kinds=(Fault.RESET,),
        scripted={"a": [None, Fault.HANG], "b": [Fault.HTML]},
        always_fail_ids=frozenset({"b", "c"}),
        invalid_ids=frozenset({"c"}),
    )
    assert [plan.fault_for("a", n) for n in (1, 2, 3)] == [None, Fault.HANG, None]
    assert plan.fault_for("b", 1) is Fault.ALWAYS_FAIL
    assert plan.fault_for("c", 1) is Fault.INVALID
    assert plan.fault_for("d", 1) is Fault.RESET and plan.fault_for("d", 2) is None
    assert FaultPlan().fault_for("d", 1) is None


def test_fault_plan_parses_the_cli_form() -> None:
    plan = FaultPlan.parse("rate=0.33, kinds=rate_limit+server_error+reset ,seed=7,retry_after=0.5,hang=2")
    assert plan == FaultPlan(
        rate=0.33,
        kinds=(Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.RESET),
        seed=7,
        retry_after_seconds=0.5,
        hang_seconds=2,
    )
    assert FaultPlan.parse("always_fail=asst_a+asst_b,invalid=asst_c,retry_after_ms=90") == FaultPlan(
        always_fail_ids=frozenset({"asst_a", "asst_b"}), invalid_ids=frozenset({"asst_c"}), retry_after_ms=90
    )
    for bad in ("rate=2", "kinds=explode", "colour=red", "rate", "rate=0.1,kinds="):
        with pytest.raises(ValueError):
            FaultPlan.parse(bad)


# --- Capacity and statistics -------------------------------------------------------------------


class _HeldCatalog(StaticCatalog):
    """Holds every lookup until released, and tells when ``expected`` lookups are being held."""

    def __init__(self, assistants: list[dict[str, Any]], expected: int) -> None:
        super().__init__(assistants)
        self.release = threading.Event()
        self.all_held = threading.Event()
        self._expected = expected
        self._held = 0
        self._lock = threading.Lock()

    def get(self, assistant_id: str) -> bytes | None:
        with self._lock:
            self._held += 1
            if self._held == self._expected:
                self.all_held.set()
        self.release.wait(60)
        return super().get(assistant_id)


def test_max_concurrent_rejects_the_excess(assistants: list[dict[str, Any]]) -> None:
    # Two requests are held inside the server (deterministically, not by latency); every request that arrives
    # meanwhile is beyond the capacity of 2 and must be rejected at once, without waiting for the two.
    catalog = _HeldCatalog(assistants, expected=2)
    target = f"/assistants/{assistants[0]['id']}"
    with SandboxServer(catalog, max_concurrent=2) as server:
        held: list[httpx.Response] = []

        def held_request() -> None:
            with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60, verify=TLS) as client:
                held.append(client.get(target))

        threads = [threading.Thread(target=held_request) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            assert catalog.all_held.wait(60)
            with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60, verify=TLS) as client:
                excess = [client.get(target) for _ in range(4)]
        finally:
            catalog.release.set()
            for thread in threads:
                thread.join()
        stats = server.stats
        assert [r.status_code for r in excess] == [429] * 4
        assert {r.headers["retry-after"] for r in excess} == {"1"}
        assert [r.status_code for r in held] == [200, 200]
        assert stats.rejected_over_capacity == 4 and stats.status_counts == Counter({200: 2, 429: 4})
        assert stats.max_in_flight == 3


def test_stats_count_everything_and_reset(assistants: list[dict[str, Any]]) -> None:
    target, other = assistants[0]["id"], assistants[1]["id"]
    plan = FaultPlan(scripted={target: [Fault.RATE_LIMIT]})
    with _faulty(assistants, plan) as (server, client):
        before = time.monotonic()
        statuses = [client.get(f"/assistants/{target}").status_code for _ in range(3)]
        client.get(f"/assistants/{other}")
        client.get("/assistants")
        client.get("/assistants", headers={"Authorization": "Bearer nope-nope-nope"})
        stats = server.stats
        assert statuses == [429, 200, 200]
        assert stats.total_requests == 6 and stats.list_requests == 1
        assert stats.requests_by_id == Counter({target: 3, other: 1})
        times = stats.request_times_by_id[target]
        assert len(times) == 3 and before <= times[0] <= times[1] <= times[2] <= time.monotonic()
        assert stats.status_counts == Counter({200: 4, 429: 1, 401: 1})
        assert stats.faults_injected == Counter({Fault.RATE_LIMIT: 1}) and stats.faults_injected["rate_limit"] == 1
        assert stats.max_in_flight == 1 and stats.rejected_over_capacity == 0
        stats.reset()
        assert (stats.total_requests, stats.requests_by_id, stats.status_counts) == (0, Counter(), Counter())
        assert client.get(f"/assistants/{target}").status_code == 429, "attempt numbers restart after reset()"


# --- The CLI --------------------------------------------------------------------------------------


def test_cli_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "assistants_export.sandbox", "--generated", "30", "--faults", "rate=0",
               "--api-key", "sk-cli"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("base_url=http://127.0.0.1:") and line.endswith("/v1")
            headers = {**AUTH, "Authorization": "Bearer sk-cli"}
            base_url = line.removeprefix("base_url=")
            with httpx.Client(base_url=base_url, headers=headers, timeout=5, verify=TLS) as client:
                assert len(client.get("/assistants", params={"limit": 100}).json()["data"]) == 30
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
