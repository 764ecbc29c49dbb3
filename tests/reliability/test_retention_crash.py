"""A kill in the middle of retention (``compact --keep-days``) changes no answer about the kept data; the next run
finishes the work and ends where an uninterrupted one does.

``assistants-export compact --keep-days 29`` runs in a subprocess armed with a crash point
(:mod:`assistants_export.connectors.core.failpoints`) and dies by SIGKILL there: between the tables of a removed
date, or after the first payload partition was rewritten. The history (``assistant_history``, ``assistant_changes``,
``config_as_of`` on every date, ``current_assistants``) then answers as before, over the stored files and in DuckDB,
and so do the kept dates' ``raw_assistants``; the command run again leaves the same stored tables and answers as
one run that was never killed.
"""

import os
import shutil
import signal
import subprocess

import pytest
from cli_command import CLI
from retention_warehouse import DAYS, both, build, raw_dates
from warehouse_state import parquet_state

from assistants_export.connectors.warehouse.views import open_parquet
from assistants_export.pipelines.cli import run

pytestmark = pytest.mark.integration

POINTS = {
    "a date's members removed, its fetch errors not": "retention.date@1",
    "one payload partition rewritten, the others not": "retention.payloads@1",
}


def kept_raw(root):
    with open_parquet(root) as con:
        return sorted(map(str, con.execute("SELECT * FROM raw_assistants WHERE snapshot_date >= ?",
                                           [DAYS[2]]).fetchall()))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("built") / "wh"
    build(str(root))
    (next((root / "held").rglob("held.json")).parent).rename(root / "discarded")  # an orphan to collect
    shutil.rmtree(root / "discarded")
    done = tmp_path_factory.mktemp("done") / "wh"
    shutil.copytree(root, done)
    assert run(["compact", "--warehouse", str(done), "--keep-days", "29"]) == 0
    return root, both(str(root)), kept_raw(str(root)), parquet_state(done), both(str(done)), raw_dates(str(done))


@pytest.mark.parametrize("scenario", sorted(POINTS))
def test_a_killed_retention_changes_no_answer_of_the_kept_data(built, scenario, tmp_path):
    source, history, raw, stored_after, history_after, raw_after = built
    root = tmp_path / "wh"
    shutil.copytree(source, root)
    env = {**os.environ, "ASSISTANTS_FAILPOINTS": POINTS[scenario]}
    done = subprocess.run([*CLI, "compact", "--warehouse", str(root), "--keep-days", "29"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert both(str(root)) == history and kept_raw(str(root)) == raw

    assert run(["compact", "--warehouse", str(root), "--keep-days", "29"]) == 0
    assert parquet_state(root) == stored_after
    assert both(str(root)) == history_after == history
    assert raw_dates(str(root)) == raw_after == (DAYS[2:], DAYS[2:])
