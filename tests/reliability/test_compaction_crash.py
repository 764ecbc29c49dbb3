"""A kill in the middle of a compaction or a vacuum leaves every answer as it was; the next one finishes the work.

On a folder and on a bucket (moto's S3 server on loopback): ``assistants-export compact`` runs in a subprocess armed
with a crash point (:mod:`assistants_export.connectors.core.failpoints`), dies by SIGKILL there, and then

1. every table reads as before, row for row (and the views over the stored files answer the same);
2. ``compact --vacuum`` run again succeeds, answers the same, and leaves no orphan: every month file is named
   by its table's manifest, no staged manifest or staging job is left.
"""

import datetime as dt
import os
import shutil
import signal
import subprocess

import pytest
from cli_command import CLI
from s3_server import new_bucket
from snapshot_days import snapshot_days
from warehouse_state import comparable, parquet_state

from assistants_export.connectors.warehouse import ParquetStore
from assistants_export.connectors.warehouse.compaction import COMPACTED_TABLES, compact_folder
from assistants_export.connectors.warehouse.views import open_parquet
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

pytestmark = pytest.mark.integration

KEY = "sk-compact-crash-5Rt8Qz"
DAYS = (dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 2))
FOLDER_POINTS = {
    "compaction: a month file written, not named yet": ("compact.month@2", False),
    "compaction: some tables switched, the others not": ("compact.table@3", False),
    "vacuum: some replaced files deleted, the manifest not rewritten": ("vacuum.delete@5", True),
}
LAKE_POINTS = {
    "compaction: some Delta tables compacted": ("lake.compact@3", False),
    "vacuum: some Delta tables vacuumed": ("vacuum.delete@3", False),
}


def nights(fixtures):
    return {day: [{**fixtures[0], "name": f"night {i}"}, *fixtures[1:5 - (i % 2)]] for i, day in enumerate(DAYS)}


def answers(root):
    with open_parquet(str(root)) as con:
        out = {}
        for statement in ("SELECT * FROM current_assistants", "SELECT * FROM assistant_history",
                          "SELECT * FROM assistants"):
            cursor = con.execute(statement)
            names = [c[0] for c in cursor.description]
            out[statement] = comparable(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return out


def killed(root, point, *arguments):
    """``compact`` in a subprocess armed with ``point``; asserts it died there."""
    env = {**os.environ, "ASSISTANTS_FAILPOINTS": point}
    done = subprocess.run([*CLI, "compact", "--warehouse", str(root), "--vacuum", "--retain-days", "0",
                           *arguments], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


def no_orphans(root):
    store = ParquetStore(root)
    for table in COMPACTED_TABLES:
        folder = root / "parquet" / table
        named = store.manifest(table).named()
        assert {p.name for p in (folder / "_compacted").glob("*")} <= named
        assert not list(folder.glob("_compacted.json.*"))
    assert not list((root / ".staging").glob("*")) if (root / ".staging").exists() else True


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder") / "wh"
    fixtures = bundled_assistants()[:6]
    snapshot_days(root, KEY, [a["id"] for a in fixtures], nights(fixtures))
    return root, parquet_state(root), answers(root)


@pytest.mark.parametrize("scenario", sorted(FOLDER_POINTS))
def test_a_killed_folder_compaction_or_vacuum_changes_no_answer(folder, scenario, tmp_path):
    built, stored, seen = folder
    root = tmp_path / "wh"
    shutil.copytree(built, root)
    point, compacted_first = FOLDER_POINTS[scenario]
    if compacted_first:  # the vacuum's turn: the months are merged, their per-date files wait
        compact_folder(ParquetStore(root), dt.date(2026, 12, 1))
    killed(root, point)
    assert parquet_state(root) == stored and answers(root) == seen

    assert run(["compact", "--warehouse", str(root), "--vacuum", "--retain-days", "0"]) == 0
    assert parquet_state(root) == stored and answers(root) == seen
    no_orphans(root)
    live = ParquetStore(root).live_files("payloads")
    assert [p.parent.name for p in live] == ["_compacted", "_compacted"]  # January and February, one file each
    assert not list((root / "parquet" / "payloads").glob("snapshot_date=*"))  # vacuumed


@pytest.fixture(scope="module")
def lake(_moto_endpoint, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        bucket = new_bucket(_moto_endpoint, mp)
        mp.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path_factory.mktemp("cache")))
        fixtures = bundled_assistants()[:6]
        ids = [a["id"] for a in fixtures]
        built = bucket.uri("built")
        snapshot_days(built, KEY, ids, dict(list(nights(fixtures).items())[:2]))
        snapshot_days(built, KEY, ids, {DAYS[1]: [{**fixtures[0], "name": "re-run"}, *fixtures[1:5]]})  # a re-run
        yield bucket, built, parquet_state(built), answers(built)
    finally:
        mp.undo()


@pytest.mark.parametrize("scenario", sorted(LAKE_POINTS))
def test_a_killed_bucket_compaction_or_vacuum_changes_no_answer(lake, scenario, capsys):
    bucket, _, stored, seen = lake
    target = f"crash-{LAKE_POINTS[scenario][0].replace('@', '-').replace('.', '-')}"
    bucket.copy("built", target)
    root = bucket.uri(target)
    killed(root, LAKE_POINTS[scenario][0])
    assert parquet_state(root) == stored and answers(root) == seen
    capsys.readouterr()
    assert run(["compact", "--warehouse", root, "--vacuum", "--retain-days", "0"]) == 0
    out = capsys.readouterr().out
    assert "  snapshot_members: " in out and "vacuum: deleted " in out
    assert parquet_state(root) == stored and answers(root) == seen


WRITE_A_DATE = """
import datetime as dt, sys
from assistants_export.connectors.core.schemas import SNAPSHOT_MEMBERS
from assistants_export.connectors.warehouse import ParquetStore
store = ParquetStore(sys.argv[1])
date = dt.date.fromisoformat(sys.argv[2])
store.write(SNAPSHOT_MEMBERS, date, store.read(SNAPSHOT_MEMBERS, date).slice(1))
"""


def test_a_date_of_a_compacted_month_killed_while_it_leaves_its_month_reads_as_before(folder, tmp_path):
    built, stored, seen = folder
    root = tmp_path / "wh"
    shutil.copytree(built, root)
    compact_folder(ParquetStore(root), dt.date(2026, 12, 1))
    env = {**os.environ, "ASSISTANTS_FAILPOINTS": "compact.uncover"}
    done = subprocess.run([CLI[0], "-c", WRITE_A_DATE, str(root), DAYS[1].isoformat()], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    # the date's own file is written and its month's file rewritten without it, but the manifest still names
    # the old one: every reader sees the date as it was
    assert len(list((root / "parquet" / "snapshot_members" / "_compacted").glob("*.parquet"))) == 3
    assert parquet_state(root) == stored and answers(root) == seen

    assert run(["compact", "--warehouse", str(root), "--vacuum", "--retain-days", "0"]) == 0
    assert parquet_state(root) == stored and answers(root) == seen
    no_orphans(root)
