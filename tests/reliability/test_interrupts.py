"""Ctrl-C does what the README says, whatever the moment it comes.

A snapshot run (a process of its own, forked by :class:`CliForks`) is paused at a named point
(``ASSISTANTS_PAUSEPOINTS``), sent SIGINT (or SIGTERM) there, and let go. Every time it must end with exit
status 130 and exactly one line on stderr, never a traceback, and leave the warehouse in one of two states,
compared row for row, Parquet and DuckDB alike:

* interrupted before its commit began (while fetching, or just before the commit): exactly as it was
  ("before"), and the line says the snapshot was not stored;
* interrupted once the commit began (during it, during flatten, inside the DuckDB load, during the history):
  exactly what an uninterrupted run leaves ("after"), and the line says the run finished storing it first.

Also: Ctrl-C during a listing that never ends stops it promptly; a second Ctrl-C stops the process at once,
and a re-run then gives what an uninterrupted run gives.
"""

import datetime as dt
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from cli_forks import CliForks
from warehouse_state import duckdb_state, parquet_state

from assistants_export.pipelines.cli import run
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

pytestmark = pytest.mark.integration

KEY = "sk-interrupts-4Fq9Lm2X"
ROOT = Path(__file__).parents[2]
DATE = dt.date(2026, 11, 20)
EARLIER = DATE - dt.timedelta(days=1)
FIXTURES = bundled_assistants()[:16]
IDS = [a["id"] for a in FIXTURES]
BEFORE_IDS = IDS[:10]
AFTER_IDS = [*IDS[4:], "asst_gone0000000000000000000000"]
"""Overlaps the stored snapshot: some assistants stay, some go (not asked), some arrive, one is not found."""

BEFORE_THE_COMMIT = {
    "while fetching": ("fetch@3", signal.SIGINT),
    "while fetching, by SIGTERM": ("fetch@3", signal.SIGTERM),
    "just before the commit": ("commit", signal.SIGINT),
}
ONCE_THE_COMMIT_BEGAN = {
    "during the commit": ("parquet.staged", signal.SIGINT),
    "during flatten": ("flatten", signal.SIGINT),
    "inside the DuckDB load": ("duckdb.table", signal.SIGINT),
    "during the history": ("history", signal.SIGINT),
}


def child_env(server):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANTS_", "DAGSTER_"))}
    environ.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url, ASSISTANTS_START_DATE="2025-01-01")
    return environ


def snapshot_argv(warehouse, ids=AFTER_IDS, date=DATE):
    return ["snapshot", "--date", date.isoformat(), "--warehouse", str(warehouse), "-q", "--force",
            "--ids", ",".join(ids), "--concurrency", "2"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The sandbox, a warehouse "before" (two dates stored), and "after": the same plus an uninterrupted run."""
    tmp = tmp_path_factory.mktemp("interrupts")
    with SandboxServer(StaticCatalog(FIXTURES), api_key=KEY) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", KEY)
        mp.setenv("OPENAI_BASE_URL", server.base_url)
        before, after = tmp / "before", tmp / "after"
        assert run(snapshot_argv(before, IDS[8:], EARLIER)) == 0
        assert run(snapshot_argv(before, BEFORE_IDS)) == 0
        shutil.copytree(before, after)
        assert run(snapshot_argv(after)) == 0
        states = {"before": (parquet_state(before), duckdb_state(before)),
                  "after": (parquet_state(after), duckdb_state(after))}
        assert states["before"] != states["after"]
        with CliForks(child_env(server), cwd=ROOT) as forks:
            yield {"tmp": tmp, "server": server, "forks": forks, "states": states, "before": before}


def interrupt_at(world, name, point, kind, *, times=1):
    """A fresh copy of "before", a run paused at ``point``, ``times`` signals of ``kind`` there, then let go.

    Returns the warehouse, the exit status and stderr."""
    folder = world["tmp"] / name.replace(" ", "-").replace(",", "")
    warehouse, pause = folder / "wh", folder / "pause"
    shutil.copytree(world["before"], warehouse)
    pause.mkdir()
    forks = world["forks"]
    pid = forks.start(snapshot_argv(warehouse), folder / "out",
                      {"ASSISTANTS_PAUSEPOINTS": point, "ASSISTANTS_PAUSE_DIR": str(pause)})
    paused = pause / f"{point.split('@')[0]}.paused"
    wait_for(paused)
    for _ in range(times):
        os.kill(pid, kind)
        time.sleep(0.2)  # the handler runs in the run's main thread; the pause is in another (no timing asserted)
    (pause / f"{point.split('@')[0]}.go").touch()
    status = forks.wait(pid)
    return warehouse, status, (folder / "out" / "stderr.txt").read_text(encoding="utf-8")


def wait_for(path, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def one_line(err):
    assert err.count("\n") == 1 and err.startswith("error: interrupted"), err
    assert "Traceback" not in err and "RuntimeError" not in err and "Error:" not in err, err
    return err


@pytest.mark.parametrize("name", list(BEFORE_THE_COMMIT))
def test_an_interrupt_before_the_commit_ends_at_once_and_leaves_the_date_as_it_was(world, name):
    point, kind = BEFORE_THE_COMMIT[name]
    warehouse, status, err = interrupt_at(world, name, point, kind)
    assert status == 130, err
    assert "was not stored" in one_line(err) and "as it was in Parquet and DuckDB" in err
    assert (parquet_state(warehouse), duckdb_state(warehouse)) == world["states"]["before"]


@pytest.mark.parametrize("name", list(ONCE_THE_COMMIT_BEGAN))
def test_an_interrupt_once_the_commit_began_finishes_it_so_parquet_and_duckdb_agree(world, name):
    point, kind = ONCE_THE_COMMIT_BEGAN[name]
    warehouse, status, err = interrupt_at(world, name, point, kind)
    assert status == 130, err
    assert "finished storing it first" in one_line(err) and "Parquet and DuckDB both hold it" in err
    assert (parquet_state(warehouse), duckdb_state(warehouse)) == world["states"]["after"]


def test_a_second_interrupt_stops_at_once_and_a_rerun_repairs_everything(world, monkeypatch):
    warehouse, status, err = interrupt_at(world, "twice inside the DuckDB load", "duckdb.table", signal.SIGINT,
                                          times=2)
    assert status == 130, err
    err = err.lstrip("\n")
    assert err.count("\n") == 1 and err.startswith("error: interrupted again: stopped at once"), err
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", world["server"].base_url)
    assert run(snapshot_argv(warehouse)) == 0
    assert (parquet_state(warehouse), duckdb_state(warehouse)) == world["states"]["after"]


class EndlessCatalog:
    """A listing that never ends: every page holds assistants not seen before and says ``has_more``."""

    def __init__(self, template):
        self.template = template

    def _body(self, n):
        return json.dumps({**self.template, "id": f"asst_endless{n:016d}"}).encode()

    def get(self, assistant_id):
        return self._body(int(assistant_id.removeprefix("asst_endless"))) \
            if assistant_id.startswith("asst_endless") else None

    def page(self, *, limit, order, after, before):
        start = 0 if after is None else int(after.removeprefix("asst_endless")) + 1
        numbers = range(start, start + limit)
        return ([self._body(n) for n in numbers], f"asst_endless{numbers[0]:016d}", f"asst_endless{numbers[-1]:016d}",
                True)

    def ids(self):
        return iter(())

    def __len__(self):
        return 0


def test_ctrl_c_during_a_listing_that_never_ends_stops_it_promptly_with_one_line(world):
    server = world["server"]
    folder = world["tmp"] / "endless"
    warehouse = folder / "wh"
    shutil.copytree(world["before"], warehouse)
    catalog = server.catalog
    server.catalog = EndlessCatalog(FIXTURES[0])
    server.stats.reset()
    try:
        pid = world["forks"].start(["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-q",
                                    "--force", "--discover"], folder / "out")
        deadline = time.monotonic() + 120
        while server.stats.list_requests < 3:  # the listing is well under way
            assert time.monotonic() < deadline, "the listing never started"
            time.sleep(0.02)
        os.kill(pid, signal.SIGINT)
        status = world["forks"].wait(pid)  # it ends: a listing that went on would never return here
    finally:
        server.catalog = catalog
    err = (folder / "out" / "stderr.txt").read_text(encoding="utf-8")
    assert status == 130, err
    assert "was not stored" in one_line(err)
    assert (parquet_state(warehouse), duckdb_state(warehouse)) == world["states"]["before"]


def test_ctrl_c_while_waiting_for_another_run_of_the_source_stops_the_wait_with_one_line(world):
    """A run waiting for the source's writer lock (another run holds it) stops waiting at Ctrl-C, writing nothing."""
    folder = world["tmp"] / "waiting"
    warehouse, pause = folder / "wh", folder / "pause"
    shutil.copytree(world["before"], warehouse)
    pause.mkdir()
    forks = world["forks"]
    holder = forks.start(snapshot_argv(warehouse), folder / "holder",
                         {"ASSISTANTS_PAUSEPOINTS": "fetch@3", "ASSISTANTS_PAUSE_DIR": str(pause)})
    wait_for(pause / "fetch.paused")
    waiting = forks.start([*snapshot_argv(warehouse), "--writer-wait", "600"], folder / "waiting")
    time.sleep(1)  # let it start waiting (if the signal came sooner it would still end the same way)
    os.kill(waiting, signal.SIGINT)
    status = forks.wait(waiting)  # returns: a wait of 600 s would not
    err = (folder / "waiting" / "stderr.txt").read_text(encoding="utf-8")
    assert status == 130, err
    assert "was not stored" in one_line(err)
    assert (parquet_state(warehouse), duckdb_state(warehouse)) == world["states"]["before"]
    (pause / "fetch.go").touch()
    assert forks.wait(holder) == 0
