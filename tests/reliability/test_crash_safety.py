"""Crash safety: the CLI is SIGKILLed at chosen points; readers never see half a write, a re-run repairs all.

Every scenario starts from the same warehouse ("before": two dates already
snapshotted), runs ``assistants-export snapshot`` for one of those dates with
other IDs in a subprocess armed with ``ASSISTANTS_FAILPOINTS`` (see
:mod:`assistants_export.connectors.core.failpoints`), and checks that

1. the process died by SIGKILL at that point (nothing in Python ran after it);
2. every Parquet partition a reader can see is a complete, readable file holding
   either the content from before or the content of an uninterrupted run
   ("after"), never a mix, and none is missing (a replacement is one rename of
   the partition's file);
3. DuckDB opens, and its date tables are wholly "before" or wholly "after"
   (one transaction), as are its history tables; killed inside the transaction
   (between two tables, or after the last one), they are exactly "before";
4. re-running the date without the failpoint leaves Parquet and DuckDB equal,
   row for row, to the uninterrupted run, and no staged data left over; where the
   runs share a ``DAGSTER_HOME``, its SQLite storage survived the kill and
   records both runs.

The killed subprocesses run in parallel (they spend most of their time importing
Dagster); the checks and the re-runs then go one scenario at a time.

Everything runs twice: on a warehouse folder, and on a bucket of moto's S3 server on loopback, where each
table is a Delta table. There is no rename there (a partition is replaced by one log entry), so the two
replacement scenarios give way to a kill before the membership's commit, after the new payloads' commits.
"""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_command import CLI
from dagster import DagsterInstance, DagsterRunStatus
from s3_server import new_bucket
from warehouse_state import duckdb_state, parquet_state

from assistants_export.connectors.core import failpoints
from assistants_export.connectors.core.schemas import ALL_TABLES, STORED_DATE_TABLES
from assistants_export.connectors.warehouse import DuckDBStore
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import GeneratedCatalog, SandboxServer

pytestmark = pytest.mark.integration

KEY = "sk-crash-4TgH8wQm2ZrX6yPd"
DATE = dt.date(2026, 11, 20)
PREVIOUS = DATE - dt.timedelta(days=1)
CATALOG = GeneratedCatalog(150, seed=9)
IDS = list(CATALOG.ids())
BEFORE_IDS = IDS[:90]
AFTER_IDS = [*IDS[40:], "asst_unknown000000000000000000", "../files"]
"""Overlaps the earlier snapshot: some assistants stay, some go (not_found), some arrive."""

SCENARIOS = {
    "while fetching": "fetch@60",
    "partition staged, before any rename": "parquet.staged",
    "first replacement: a payload partition's new file staged, the old one in place": "parquet.swap",
    "a later replacement: new payloads in place, the membership's new file staged": "parquet.swap@6",
    "inside the DuckDB transaction, between two tables": "duckdb.table@2",
    "inside the DuckDB transaction": "duckdb.load",
    "right after the DuckDB commit": "duckdb.committed",
    "while updating the history": "history",
}
LAKE_ONLY = {"a later commit: new payloads committed, the membership not yet": "parquet.staged@6"}
"""The bucket's counterpart of the replacements: commits 1-4 are the payload tables, the 5th their Responses
mappings, the 6th the membership."""
FOLDER_ONLY = {name for name, spec in SCENARIOS.items() if spec.startswith("parquet.swap")}
WITH_DAGSTER_HOME = "inside the DuckDB transaction"
"""The scenario whose crash and re-run share a persistent Dagster instance (SQLite under DAGSTER_HOME),
proving the instance survives the kill; the others use a throwaway instance, which is faster."""
PARQUET_DATE_TABLES = set(STORED_DATE_TABLES)
"""The tables stored a partition per date."""
DATE_TABLES = PARQUET_DATE_TABLES | set(ALL_TABLES)
"""Loaded into DuckDB for a date in one transaction (with the views over them); every other table is the history's."""
INSIDE_THE_TRANSACTION = {"duckdb.table@2", "duckdb.load"}
"""Killed before COMMIT: DuckDB must show exactly the state from before, whatever Parquet already holds."""


def snapshot(warehouse, ids_file, date=DATE):
    return run(["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
                "--ids-file", str(ids_file)])


def write_ids(path, ids):
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return path


def dagster_home(path):
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return path


def child_env(base_url, **extra):
    """The environment of a CLI subprocess: the caller's, less anything that could point it elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "ASSISTANTS_", "DAGSTER_"))}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=base_url, **extra)
    return env


class Warehouses:
    """Named warehouses of one kind: folders under ``tmp``, or prefixes of one bucket (DuckDB cached in ``tmp``)."""

    def __init__(self, kind, tmp, bucket=None):
        self.kind, self.tmp, self.bucket = kind, tmp, bucket
        self.cache = tmp / "duckdb-cache"

    def at(self, name):
        return str(self.tmp / name) if self.kind == "local" else self.bucket.uri(name)

    def copy(self, source, target):
        if self.kind == "local":
            shutil.copytree(self.tmp / source, self.tmp / target)
            return
        self.bucket.copy(source, target)
        database = DuckDBStore(self.at(source)).path
        DuckDBStore(self.at(target)).path.parent.mkdir(parents=True)
        shutil.copy(database, DuckDBStore(self.at(target)).path)

    def scenarios(self):
        if self.kind == "local":
            return dict(SCENARIOS)
        return {**{n: s for n, s in SCENARIOS.items() if n not in FOLDER_ONLY}, **LAKE_ONLY}


@pytest.fixture(scope="module", params=["local", "s3"])
def crashes(request, tmp_path_factory):
    """Build "before" and "after", then kill one CLI subprocess per scenario, all at once."""
    tmp = tmp_path_factory.mktemp("crash")
    before_ids, after_ids = write_ids(tmp / "before.txt", BEFORE_IDS), write_ids(tmp / "after.txt", AFTER_IDS)
    with SandboxServer(CATALOG, api_key=KEY) as srv, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", KEY)
        mp.setenv("OPENAI_BASE_URL", srv.base_url)
        bucket = None
        if request.param == "s3":
            bucket = new_bucket(request.getfixturevalue("_moto_endpoint"), mp)
            mp.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp / "duckdb-cache"))
        places = Warehouses(request.param, tmp, bucket)
        before = places.at("before")
        assert snapshot(before, write_ids(tmp / "previous.txt", IDS[100:]), PREVIOUS) == 0
        assert snapshot(before, before_ids) == 0
        after = places.at("after")
        places.copy("before", "after")
        assert snapshot(after, after_ids) == 0

        runs = {}
        for name, spec in places.scenarios().items():
            folder = tmp / spec.replace("@", "-")
            places.copy("before", f"{folder.name}/wh")
            folder.mkdir(exist_ok=True)
            (folder / "tmp").mkdir()
            env = child_env(srv.base_url, ASSISTANTS_FAILPOINTS=spec, TMPDIR=str(folder / "tmp"))
            if bucket is not None:
                env["ASSISTANTS_DUCKDB_CACHE"] = str(places.cache)
            if name == WITH_DAGSTER_HOME:
                env["DAGSTER_HOME"] = str(dagster_home(folder / "dagster"))
            command = [*CLI, "snapshot", "--date", DATE.isoformat(),
                       "--warehouse", places.at(f"{folder.name}/wh"), "-q", "--force", "--ids-file",
                       str(after_ids)]
            with open(folder / "output.txt", "wb") as output:
                runs[name] = (folder, subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT))
        for name, (folder, process) in runs.items():
            try:
                process.wait(timeout=240)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        yield {
            "kind": request.param,
            "places": places,
            "base_url": srv.base_url,
            "after_ids": after_ids,
            "before": (parquet_state(before), duckdb_state(before)),
            "after": (parquet_state(after), duckdb_state(after)),
            "runs": {name: (folder, process.returncode) for name, (folder, process) in runs.items()},
        }


def test_the_two_states_differ_so_the_checks_mean_something(crashes):
    (parquet_before, duck_before), (parquet_after, duck_after) = crashes["before"], crashes["after"]
    changed = {key for key in parquet_after if parquet_before.get(key) != parquet_after[key]}
    assert {table for table, _ in changed} >= PARQUET_DATE_TABLES
    assert all(duck_before[t] != duck_after[t] for t in DATE_TABLES)
    assert parquet_before[("snapshot_members", f"snapshot_date={PREVIOUS}")] \
        == parquet_after[("snapshot_members", f"snapshot_date={PREVIOUS}")]


@pytest.mark.parametrize("scenario", [*SCENARIOS, *LAKE_ONLY])
def test_a_killed_run_leaves_no_partial_state_and_a_rerun_repairs_it(crashes, scenario, monkeypatch):
    if scenario not in crashes["runs"]:
        pytest.skip(f"not a point of a {crashes['kind']} warehouse")
    if crashes["kind"] == "s3":  # the autouse isolation removed it for this test
        monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(crashes["places"].cache))
    folder, returncode = crashes["runs"][scenario]
    warehouse = crashes["places"].at(f"{folder.name}/wh")
    spec = crashes["places"].scenarios()[scenario]
    output = (folder / "output.txt").read_text(encoding="utf-8", errors="replace")
    assert returncode == -signal.SIGKILL, f"the run was not killed at {spec}:\n{output[-3000:]}"
    (parquet_before, duck_before), (parquet_after, duck_after) = crashes["before"], crashes["after"]

    # What readers see now: each partition whole, old or new.
    seen = parquet_state(warehouse)
    for key, rows in seen.items():
        assert rows in (parquet_before.get(key), parquet_after.get(key)), f"{key} is neither before nor after"
    missing = set(parquet_before) - set(seen)
    if spec == "history" and crashes["kind"] == "s3":
        # On a bucket the history step unmarks the dates it replays (their change-log partitions) before it
        # replaces the history, so a kill there leaves those dates to be replayed by the next run. A folder
        # marks them unreplayed with a marker file instead and keeps every partition in place.
        missing = {key for key in missing if key[0] != "assistant_changes"}
    assert not missing, f"partitions a reader no longer sees: {sorted(missing)}"

    # DuckDB opens; the date's tables moved together, and so did the history's.
    duck = duckdb_state(warehouse)
    for group in (DATE_TABLES, set(duck_after) - DATE_TABLES):
        now = {t: duck.get(t) for t in group}
        assert now in ({t: duck_before.get(t) for t in group}, {t: duck_after.get(t) for t in group}), group
    if spec in INSIDE_THE_TRANSACTION:
        # Nothing was committed: every table is as it was, although all the new Parquet partitions are in place.
        assert duck == duck_before
        assert all(seen[key] == parquet_after[key] for key in seen if key[0] in PARQUET_DATE_TABLES)

    # A plain re-run of the date gives what an uninterrupted run gives.
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", crashes["base_url"])
    if scenario == WITH_DAGSTER_HOME:
        monkeypatch.setenv("DAGSTER_HOME", str(folder / "dagster"))
    assert snapshot(warehouse, crashes["after_ids"]) == 0
    assert parquet_state(warehouse) == parquet_after
    assert duckdb_state(warehouse) == duck_after
    if crashes["kind"] == "local":
        staging = folder / "wh" / ".staging"
        assert not staging.exists() or not any(p.is_dir() for p in staging.iterdir())  # no staged data left
    if scenario == WITH_DAGSTER_HOME:
        with DagsterInstance.from_config(str(folder / "dagster")) as instance:
            statuses = [r.status for r in instance.get_runs()]
        assert len(statuses) == 2 and statuses[0] == DagsterRunStatus.SUCCESS  # newest first


def test_every_failpoint_name_is_known_and_a_typo_is_refused():
    assert failpoints.parse("fetch@60, parquet.swap") == {"fetch": 60, "parquet.swap": 1}
    assert failpoints.parse("") == {}
    with pytest.raises(ValueError, match="unknown failpoint"):
        failpoints.parse("parquet.swapp")
    with pytest.raises(ValueError, match="whole number"):
        failpoints.parse("fetch@0")
    assert {spec.partition("@")[0] for spec in SCENARIOS.values()} <= set(failpoints.POINTS)


def test_an_unarmed_point_costs_nothing_and_an_armed_one_kills(tmp_path):
    failpoints.reach("fetch")  # not armed in the test process: returns
    code = "from assistants_export.connectors.core import failpoints; failpoints.reach('fetch'); " \
           "print('alive', flush=True); " \
           "failpoints.reach('fetch'); print('not reached')"
    env = {**os.environ, failpoints.ENV_VAR: "fetch@2"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "alive\n"
