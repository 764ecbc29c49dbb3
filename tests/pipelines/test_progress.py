"""The snapshot progress display: phase, counts by outcome, rate, time left, retries; rendered to a string."""

import datetime as dt
import io
import json
import re

import pytest
from rich.console import Console
from rich.progress import ProgressSample

from assistants_export.connectors.openai_assistants.client import ClientStats
from assistants_export.pipelines import progress
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.cli.snapshot import count_ids
from assistants_export.pipelines.progress import ProgressDisplay
from assistants_export.sandbox import FaultPlan, SandboxServer, StaticCatalog, bundled_assistants

KEY = "sk-progress-Jw5rN1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _console():
    return Console(file=io.StringIO(), force_terminal=True, width=160, color_system=None)


def _text(display):
    console = _console()
    console.print(display.renderable())
    return ANSI.sub("", console.file.getvalue())


def test_the_fetch_line_shows_counts_by_outcome_and_keeps_moving_during_retries():
    display = ProgressDisplay(_console(), total=2262)
    stats = ClientStats()
    display.started(stats)
    text = _text(display)
    assert "fetch" in text and "0/2,262 IDs" in text
    for outcome in ["ok"] * 7 + ["not_found", "failed"]:
        display.finished(outcome)
    text = _text(display)
    assert "9/2,262 IDs" in text and "failed 1 not_found 1 ok 7" in text
    stats.retries, stats.rate_limited, stats.waited_seconds = 3, 2, 4.5  # no ID finished meanwhile
    assert "3 retries, 2 rate-limited, 4.5s waited" in _text(display)


def test_rate_and_time_left_come_from_the_ids_done():
    display = ProgressDisplay(_console(), total=1000)
    task = display.bar.tasks[0]
    display.bar.update(task.id, completed=100)
    task._progress.clear()  # two samples 2 s apart, 100 IDs done between them: no clock involved
    task._progress.extend([ProgressSample(0.0, 0), ProgressSample(2.0, 100)])
    text = _text(display)
    assert "50/s" in text and "ETA 0:18" in text


def test_discover_mode_shows_the_pages_listed():
    display = ProgressDisplay(_console(), total=None, discover=True)
    stats = ClientStats(requests=4, retries=1)
    display.started(stats)
    for _ in range(250):
        display.finished("ok")
    assert "page 3, 250 listed" in _text(display)


def test_each_phase_after_the_fetch_gets_its_own_line():
    display = ProgressDisplay(_console(), total=3)
    for _ in range(3):
        display.finished("ok")
    for name in ("flatten", "load", "history"):
        display.phase(name)
    text = _text(display)
    assert "3/3 IDs" in text and "ETA" not in text
    for line in ("flattening the raw payloads", "loading DuckDB", "updating the history"):
        assert line in text


def test_the_ids_of_a_file_are_counted_first(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("asst_a\nasst_b\nasst_a\nbad id\n", encoding="utf-8")
    assert count_ids({"ids_file": str(ids)}) == 3  # distinct, the malformed one included: each ends once
    assert count_ids({"assistant_ids": ["asst_a", "asst_a"]}) == 1
    assert count_ids({"discover": True}) is None
    assert count_ids({"ids_file": str(tmp_path / "missing.txt")}) is None


@pytest.mark.integration
def test_a_snapshot_on_a_terminal_shows_every_phase(tmp_path, monkeypatch, capsys):
    fixtures = bundled_assistants()[:12]
    ids = tmp_path / "ids.csv"
    ids.write_text("assistant_id\n" + "\n".join(a["id"] for a in fixtures) + "\nasst_gone000000000000001\n",
                   encoding="utf-8")
    seen = []
    original = ProgressDisplay.phase

    def spy(self, name):
        seen.append((name, _text(self)))
        original(self, name)

    monkeypatch.setattr(ProgressDisplay, "phase", spy)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    faults = FaultPlan.parse("rate=0.3,kinds=server_error,seed=3")
    with SandboxServer(StaticCatalog(fixtures), api_key=KEY, faults=faults) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        status = run(["snapshot", "--ids-file", str(ids), "--warehouse", str(tmp_path / "wh"),
                      "--date", dt.datetime.now(dt.UTC).date().isoformat()])
    _, err = capsys.readouterr()
    assert status == 0, err
    assert [name for name, _ in seen] == ["flatten", "load", "history"]
    at_flatten = seen[0][1]
    assert "13/13 IDs" in at_flatten and "not_found 1" in at_flatten and "ok 12" in at_flatten
    assert "retries" in at_flatten
    assert progress.current() is None and KEY not in err
    json.dumps(seen)  # plain text only
