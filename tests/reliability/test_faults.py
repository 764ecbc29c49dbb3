"""The fault suite: 1,000 assistants, about a third of first attempts faulted, every fault kind at once.

One snapshot runs through the Dagster assets against the sandbox (real HTTP on
loopback) with a :class:`FaultPlan` decided per (ID, attempt); the tests below
then check, each, one promise the README's "Guarantees" section makes:

* every assistant that can land lands exactly once (Parquet and DuckDB);
* an ID that always fails is in ``fetch_errors`` with its attempts, and the run succeeds for the rest;
* no request for an ID is sent before the ``Retry-After`` its 429 asked for;
* total attempts stay within the configured bound (and exactly where the plan says);
* ``x-should-retry: false`` is never retried; an invalid body is quarantined, not retried.

Waits are short (Retry-After 0.2 s / 50 ms, backoff 10-20 ms). Nothing depends on timing: faults are
decided per (ID, attempt), and the scripted hangs never answer, so a generous read timeout is the only
thing that ends them, once each.
"""

import datetime as dt
import json
from collections import Counter

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.pipelines.assets import build_snapshot_assets
from assistants_export.pipelines.partitions import partition_key
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.sandbox import Fault, FaultPlan, GeneratedCatalog, SandboxServer

pytestmark = pytest.mark.integration

KEY = "sk-faults-Zq81XcV3bN6mL0pK"
DATE = dt.date(2026, 11, 20)
N = 1000
MAX_ATTEMPTS = 4
RETRY_AFTER_S = 0.2
RETRY_AFTER_MS = 50
TRANSIENT = (Fault.RATE_LIMIT, Fault.RATE_LIMIT_MS, Fault.SERVER_ERROR, Fault.BAD_GATEWAY, Fault.UNAVAILABLE,
             Fault.RESET, Fault.HANG, Fault.TRUNCATED, Fault.HTML)
"""Retried and then answered normally."""
KINDS = tuple(k for k in (*TRANSIENT, Fault.NO_RETRY, Fault.INVALID) if k is not Fault.HANG)
"""Spread over a third of the IDs by the plan's rate. Hangs are scripted for a few IDs instead: each
costs a whole read timeout, and the adaptive concurrency may be down to one or two after the 429s."""
CATALOG = GeneratedCatalog(N, seed=5)
IDS = list(CATALOG.ids())
ALWAYS_FAIL = frozenset(IDS[:3])
HANGING = IDS[3:9]
PLAN = FaultPlan(rate=0.34, seed=11, kinds=KINDS, always_fail_ids=ALWAYS_FAIL,
                 scripted={i: [Fault.HANG] for i in HANGING},
                 retry_after_seconds=RETRY_AFTER_S, retry_after_ms=RETRY_AFTER_MS, hang_seconds=3600)
"""A hang never answers while the test runs (the server wakes it when it stops): only the client's read
timeout ends it, so each hanging ID costs exactly one extra attempt however slow the machine is."""
READ_TIMEOUT = 10.0
"""Generous: a normal answer on loopback takes milliseconds, so no request but the scripted hangs ever
reaches it, even on a loaded machine, and the exact request counts below hold. The hanging IDs are among
the first asked for, so their timeouts run together (about 10 s for the module, once)."""


def planned(assistant_id):
    """What the plan does to an ID's first attempt (None: nothing)."""
    return PLAN.fault_for(assistant_id, 1)


def ids_with(*kinds):
    return {i for i in IDS if planned(i) in kinds}


@pytest.fixture(scope="module")
def faulted_run(tmp_path_factory):
    """One snapshot of N assistants through every fault kind; returns the server stats and the warehouse."""
    tmp = tmp_path_factory.mktemp("faults")
    with SandboxServer(CATALOG, api_key=KEY, faults=PLAN) as srv, \
            DagsterInstance.ephemeral(tempdir=str(tmp / "dagster")) as instance:
        api = AssistantsApiResource(api_key=KEY, base_url=srv.base_url, concurrency=16, read_timeout=READ_TIMEOUT,
                                    max_attempts=MAX_ATTEMPTS, initial_retry_delay=0.01, max_retry_delay=0.02)
        result = materialize(list(build_snapshot_assets()), partition_key=partition_key(DATE), instance=instance,
                             resources={"api": api, "warehouse": WarehouseResource(path=str(tmp / "wh"))},
                             run_config={"ops": {"fetch_assistants": {"config": {
                                 "assistant_ids": IDS, "force": True, "max_failed_share": 0.5}}}})
        stats = srv.stats
    return result, stats, tmp / "wh"


def duck(warehouse, statement):
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        cursor = con.execute(statement)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_plan_faults_about_a_third_of_first_attempts_with_every_kind():
    first = Counter(planned(i) for i in IDS)
    faulted = N - first[None]
    assert 0.28 * N <= faulted <= 0.40 * N
    assert set(first) - {None} == {*KINDS, Fault.HANG, Fault.ALWAYS_FAIL}
    assert all(first[kind] >= 10 for kind in KINDS) and first[Fault.HANG] == len(HANGING), first


def test_the_run_succeeds_despite_the_faults(faulted_run):
    result, stats, _ = faulted_run
    assert result.success
    injected = sum(stats.faults_injected.values())
    # First attempts of the planned share, plus every attempt of the persistent faults.
    assert injected == len(ids_with(*TRANSIENT, Fault.NO_RETRY)) + len(ids_with(Fault.INVALID)) \
        + len(ALWAYS_FAIL) * MAX_ATTEMPTS


def test_every_assistant_lands_exactly_once(faulted_run):
    _, _, warehouse = faulted_run
    landing = set(IDS) - ALWAYS_FAIL - ids_with(Fault.NO_RETRY, Fault.INVALID)
    for table in ("raw_assistants", "assistants"):
        from_duckdb = Counter(r["assistant_id"] for r in duck(warehouse, f"SELECT assistant_id FROM {table}"))
        assert set(from_duckdb) == landing and set(from_duckdb.values()) == {1}, table
        parquet = read_arrow(table, warehouse=warehouse, source="parquet").select(["assistant_id"])
        from_parquet = Counter(parquet.column("assistant_id").to_pylist())
        assert from_parquet == from_duckdb, table
    # The payload stored is byte for byte the one served, whatever faults came before it.
    for row in duck(warehouse, "SELECT assistant_id, raw_json FROM raw_assistants"):
        assert row["raw_json"].encode() == CATALOG.get(row["assistant_id"])
    # Every ID ends in exactly one place: landed or in fetch_errors, never both, never neither.
    errors = Counter(r["assistant_id"] for r in duck(warehouse, "SELECT assistant_id FROM fetch_errors"))
    assert set(errors.values()) == {1} and not set(errors) & landing
    assert set(errors) | landing == set(IDS)


def test_an_id_that_always_fails_is_recorded_with_its_attempts(faulted_run):
    _, stats, warehouse = faulted_run
    errors = {r["assistant_id"]: r for r in duck(warehouse, "SELECT * FROM fetch_errors")}
    for assistant_id in ALWAYS_FAIL:
        row = errors[assistant_id]
        assert (row["outcome"], row["http_status"], row["attempts"]) == ("failed", 500, MAX_ATTEMPTS)
        assert row["error_type"] == "server_error" and row["message"]
        assert stats.requests_by_id[assistant_id] == MAX_ATTEMPTS
    run = duck(warehouse, "SELECT * FROM snapshot_runs")[0]
    assert run["failed_count"] == len(ALWAYS_FAIL) + len(ids_with(Fault.NO_RETRY))
    assert run["ok_count"] == N - run["failed_count"] - run["invalid_count"]


def test_no_request_is_sent_before_its_retry_after_has_passed(faulted_run):
    _, stats, _ = faulted_run
    for kinds, wait in (((Fault.RATE_LIMIT,), RETRY_AFTER_S), ((Fault.RATE_LIMIT_MS,), RETRY_AFTER_MS / 1000)):
        limited = ids_with(*kinds)
        assert limited
        for assistant_id in limited:
            first, second = stats.request_times_by_id[assistant_id][:2]
            # Arrival times at the server: the answer left after the first arrived, so the gap
            # between arrivals is at least the client's wait. 1 ms of slack for clock granularity.
            assert second - first >= wait - 0.001, (assistant_id, second - first)


def test_total_attempts_stay_within_the_configured_bound(faulted_run):
    _, stats, warehouse = faulted_run
    assert set(stats.requests_by_id) == set(IDS)
    assert max(stats.requests_by_id.values()) <= MAX_ATTEMPTS
    assert sum(stats.requests_by_id.values()) <= N * MAX_ATTEMPTS
    # And exactly as planned: one retry per transient fault, none otherwise.
    expected = {i: 1 for i in IDS}
    expected.update({i: 2 for i in ids_with(*TRANSIENT)})
    expected.update({i: MAX_ATTEMPTS for i in ALWAYS_FAIL})
    assert dict(stats.requests_by_id) == expected
    run = duck(warehouse, "SELECT requests, retries, rate_limited FROM snapshot_runs")[0]
    assert run["requests"] == stats.total_requests == sum(expected.values()) + 1  # + the preflight
    assert run["retries"] == sum(expected.values()) - N
    assert run["rate_limited"] == len(ids_with(Fault.RATE_LIMIT, Fault.RATE_LIMIT_MS))
    attempts = {r["assistant_id"]: r["attempts"] for r in duck(warehouse, "SELECT assistant_id, attempts "
                                                                          "FROM raw_assistants")}
    assert all(attempts[i] == expected[i] for i in attempts)


def test_x_should_retry_false_and_invalid_bodies_are_never_retried(faulted_run):
    _, stats, warehouse = faulted_run
    errors = {r["assistant_id"]: r for r in duck(warehouse, "SELECT * FROM fetch_errors")}
    for assistant_id in ids_with(Fault.NO_RETRY):
        assert stats.requests_by_id[assistant_id] == 1
        assert (errors[assistant_id]["outcome"], errors[assistant_id]["attempts"]) == ("failed", 1)
        assert errors[assistant_id]["http_status"] == 500
    for assistant_id in ids_with(Fault.INVALID):
        assert stats.requests_by_id[assistant_id] == 1
        row = errors[assistant_id]
        assert (row["outcome"], row["error_type"], row["attempts"]) == ("invalid", "schema_invalid", 1)
        assert "model" in row["message"]
        quarantined = json.loads(row["body"])
        assert quarantined["id"] == assistant_id and "model" not in quarantined
