"""Two runs writing one date of a bucket's warehouse at once: one fails cleanly, or they serialise; never a mix.

A bucket has no lock shared between containers. A run's commits are an optimistic transaction
(:meth:`LakeStore.commit_lock`): it pins each table's version on entry, and a commit of a date some other
writer committed after that pin fails. Here a run is stopped right after it pinned, another run stores the
same date whole, and the first is let go.
"""

import datetime as dt
import threading

import pytest

from assistants_export.connectors.core.schemas import FETCH_ERRORS, SNAPSHOT_MEMBERS, SNAPSHOT_RUNS
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.lake_store import ConcurrentCommitError
from assistants_export.connectors.warehouse.objectstore import DeltaDateTable
from assistants_export.connectors.warehouse.read import read_arrow
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-lake-writers-5Rm8Qz"
DATE = dt.date(2026, 11, 20)


@pytest.fixture
def lake(moto_s3, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    return moto_s3.uri("wh")


@pytest.fixture
def config():
    with SandboxServer(StaticCatalog(bundled_assistants()[:12]), api_key=KEY) as srv:
        yield ClientConfig(api_key=Secret(KEY), base_url=srv.base_url)


def ids(start, stop):
    return tuple(a["id"] for a in bundled_assistants()[start:stop])


def stored(lake):
    store = open_store(lake)
    members = store.read(SNAPSHOT_MEMBERS, DATE)
    return {
        "members": set(members.column("assistant_id").to_pylist()),
        "member_runs": set(members.column("run_id").to_pylist()) if "run_id" in members.column_names else set(),
        "errors": set(store.read(FETCH_ERRORS, DATE).column("assistant_id").to_pylist()),
        "runs": store.read(SNAPSHOT_RUNS, DATE).column("run_id").to_pylist(),
        "raw": set(read_arrow("raw_assistants", warehouse=lake, date=DATE, source="parquet")
                   .column("assistant_id").to_pylist()),
    }


@pytest.mark.parametrize("existing", [False, True], ids=["first-night", "date-already-stored"])
def test_a_writer_overtaken_after_it_pinned_fails_in_one_line_and_the_other_run_stands(lake, config, monkeypatch,
                                                                                      existing):
    if existing:
        fetch_snapshot(config, IdSource(ids=ids(0, 3)), DATE, lake)
    pinned, go = threading.Event(), threading.Event()
    original = DeltaDateTable.commit_date
    main = threading.current_thread()

    def commit_date(self, *args, **kwargs):
        if threading.current_thread() is not main and not go.is_set():
            pinned.set()  # this writer's transaction has pinned its versions; hold it here
            assert go.wait(60)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DeltaDateTable, "commit_date", commit_date)
    failure = []

    def first_writer():
        try:
            fetch_snapshot(config, IdSource(ids=(*ids(0, 8), "asst_nobody000000000000000001")), DATE, lake,
                           run_id="first")
        except Exception as exc:  # the test looks at what it was
            failure.append(exc)

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert pinned.wait(60)
    fetch_snapshot(config, IdSource(ids=ids(4, 12)), DATE, lake, run_id="second")
    go.set()
    thread.join(60)

    [error] = failure
    assert isinstance(error, ConcurrentCommitError)
    assert "another writer committed this date first" in str(error) and "\n" not in str(error)
    after = stored(lake)
    assert after["members"] == after["raw"] == set(ids(4, 12))  # the second run, whole, every body readable
    assert after["errors"] == set() and after["runs"] == ["second"]


def test_two_runs_one_after_the_other_replace_the_date_whole(lake, config):
    fetch_snapshot(config, IdSource(ids=(*ids(0, 8), "asst_nobody000000000000000001")), DATE, lake, run_id="a")
    fetch_snapshot(config, IdSource(ids=ids(4, 12)), DATE, lake, run_id="b")
    after = stored(lake)
    assert after["members"] == after["raw"] == set(ids(4, 12))
    assert after["errors"] == set() and after["runs"] == ["b"]
