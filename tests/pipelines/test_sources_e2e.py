"""Many sources end to end: two sandbox servers and a dead endpoint as three sources of one warehouse.

`assistants-export snapshot` (every source, one after another) stores each source apart, the default one at the
root and another under ``sources/<name>/``, loads them into the one DuckDB database with their names in its
``source`` column, and a source whose endpoint is down fails alone, in one line, while the others are stored.
"""

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from dagster import DagsterInstance
from warehouse_state import duckdb_state

from assistants_export.connectors.core.schemas import SNAPSHOT_MEMBERS, SNAPSHOT_RUNS
from assistants_export.connectors.warehouse import DuckDBStore, open_store
from assistants_export.connectors.warehouse.sources import source_root
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.config import SOURCE_TAG
from assistants_export.pipelines.instance import write_instance_home
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

ROOT = Path(__file__).parents[2]
DATE = dt.date(2026, 11, 20)
KEY = "sk-src-default-Lm3Qw8Zr5Tx1"
EU_KEY = "sk-src-eu-Vb7Nc2Kd9Hs4"
FIXTURES = bundled_assistants()
DEFAULT_ASSISTANTS = FIXTURES[:5]
EU_ASSISTANTS = FIXTURES[3:10]
"""Two of them (3 and 4) in both sources, with the same bodies: the same IDs and payloads, stored by two sources
the same night, each in its own place."""

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def three_sources(tmp_path, monkeypatch):
    """The sources file of two sandbox servers and a dead endpoint; the warehouse and a recorded Dagster instance."""
    home = write_instance_home(tmp_path / "dagster_home")  # the project's dagster.yaml, storage in tmp
    with SandboxServer(StaticCatalog(DEFAULT_ASSISTANTS), api_key=KEY) as default, \
            SandboxServer(StaticCatalog(EU_ASSISTANTS), api_key=EU_KEY) as eu:
        conf = tmp_path / "conf"
        conf.mkdir()
        (conf / "default-ids.txt").write_text("\n".join(a["id"] for a in DEFAULT_ASSISTANTS) + "\n", encoding="utf-8")
        (conf / "sources.toml").write_text(f"""\
[sources.default]
base_url = "{default.base_url}"
ids_file = "default-ids.txt"

[sources.eu]
base_url = "{eu.base_url}"
api_key_env = "EU_ASSISTANTS_KEY"
discover = true

[sources.down]
base_url = "http://127.0.0.1:{_closed_port()}/v1"
api_key_env = "DOWN_ASSISTANTS_KEY"
discover = true
""", encoding="utf-8")
        for name, value in {"ASSISTANTS_SOURCES_FILE": conf / "sources.toml", "OPENAI_API_KEY": KEY,
                            "EU_ASSISTANTS_KEY": EU_KEY, "DOWN_ASSISTANTS_KEY": "sk-src-down-unused",
                            "DAGSTER_HOME": home}.items():
            monkeypatch.setenv(name, str(value))
        yield tmp_path / "wh", default, eu


def snapshot(warehouse, *args):
    return run(["snapshot", "--date", DATE.isoformat(), "--force", "--warehouse", str(warehouse), "-q",
                "--max-attempts", "2", *args])


def duck(warehouse, statement):
    return DuckDBStore(warehouse).query(statement, {}).to_pylist()


def test_every_source_is_stored_apart_and_a_failing_one_fails_alone(three_sources, capsys):
    warehouse, default, eu = three_sources
    assert snapshot(warehouse) == 1
    err = capsys.readouterr().err
    (line,) = err.splitlines()  # the failed source, named in one line; nothing about the others
    assert line.startswith("error: source down: ") and KEY not in err and EU_KEY not in err
    assert default.stats.total_requests > 0 and eu.stats.total_requests > 0

    # Each source in its own place: the default at the root, eu under sources/eu/, nothing for down.
    assert (warehouse / "parquet" / "snapshot_members" / f"snapshot_date={DATE}").is_dir()
    assert (warehouse / "sources" / "eu" / "parquet" / "snapshot_members" / f"snapshot_date={DATE}").is_dir()
    assert source_root(str(warehouse), "eu") == str(warehouse / "sources" / "eu")
    for name, expected in (("default", DEFAULT_ASSISTANTS), ("eu", EU_ASSISTANTS)):
        store = open_store(source_root(str(warehouse), name))
        members = store.read(SNAPSHOT_MEMBERS, DATE, columns=["assistant_id"]).column("assistant_id").to_pylist()
        assert sorted(members) == sorted(a["id"] for a in expected), name
    assert open_store(source_root(str(warehouse), "down")).dates(SNAPSHOT_RUNS.name) == []

    # One database, every row with its source.
    members = duck(warehouse, "SELECT source, assistant_id FROM snapshot_members ORDER BY source, assistant_id")
    assert [(r["source"], r["assistant_id"]) for r in members] == sorted(
        [("default", a["id"]) for a in DEFAULT_ASSISTANTS] + [("eu", a["id"]) for a in EU_ASSISTANTS])
    runs = duck(warehouse, "SELECT source, mode, ok_count FROM snapshot_runs ORDER BY source")
    assert runs == [{"source": "default", "mode": "ids", "ok_count": len(DEFAULT_ASSISTANTS)},
                    {"source": "eu", "mode": "discover", "ok_count": len(EU_ASSISTANTS)}]

    # Every run was its own partition, tagged with its source (the queue's per-source limit reads the tag).
    with DagsterInstance.get() as instance:
        recorded = {r.tags["dagster/partition"]: (r.tags.get(SOURCE_TAG), r.is_success)
                    for r in instance.get_runs()}
    assert recorded == {f"{DATE}|default": ("default", True), f"{DATE}|eu": ("eu", True),
                        f"{DATE}|down": ("down", False)}


def test_one_source_runs_alone_and_the_others_are_left_as_they_are(three_sources, capsys):
    warehouse, default, eu = three_sources
    assert snapshot(warehouse, "--source", "default", "--source", "eu") == 0
    before = duckdb_state(warehouse)
    default.stats.reset()
    assert snapshot(warehouse, "--source", "eu") == 0
    assert default.stats.total_requests == 0
    assert duckdb_state(warehouse) == before  # a re-run of the same night changes nothing, of either source

    capsys.readouterr()
    assert run(["query", "SELECT assistant_id FROM assistants WHERE source = 'eu' ORDER BY 1", "--warehouse",
                str(warehouse), "--format", "json"]) == 0
    assert [r["assistant_id"] for r in json.loads(capsys.readouterr().out)] == sorted(a["id"] for a in EU_ASSISTANTS)

    # A backfill rebuilds every stored source from its own payloads, without the API.
    eu.stats.reset()
    assert run(["backfill", "--from", DATE.isoformat(), "--to", DATE.isoformat(), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert f"history (default) replayed from {DATE}" in out and f"history (eu) replayed from {DATE}" in out
    assert eu.stats.total_requests == 0 and duckdb_state(warehouse) == before


def test_a_source_named_on_the_command_line_takes_that_sources_options(three_sources, capsys):
    warehouse, _, eu = three_sources
    ids = ",".join(a["id"] for a in EU_ASSISTANTS[:2])
    assert snapshot(warehouse, "--source", "eu", "--ids", ids) == 0
    rows = duck(warehouse, "SELECT source, mode, ok_count FROM snapshot_runs")
    assert rows == [{"source": "eu", "mode": "ids", "ok_count": 2}]
    assert eu.stats.list_requests == 1  # the preflight; the IDs came from the option, not the table's discover


def test_the_views_read_each_sources_rows_once(three_sources):
    """The two assistants both sources hold, with the same payloads stored the same night, are each source's
    once: the views join per (source, assistant) and read a payload from one home."""
    warehouse, _, _ = three_sources
    assert snapshot(warehouse, "--source", "default", "--source", "eu") == 0
    expected = sorted([("default", a["id"], a["name"]) for a in DEFAULT_ASSISTANTS]
                      + [("eu", a["id"], a["name"]) for a in EU_ASSISTANTS])
    for view in ("assistants", "current_assistants"):
        rows = duck(warehouse, f"SELECT source, assistant_id, name FROM {view} ORDER BY ALL")
        assert [(r["source"], r["assistant_id"], r["name"]) for r in rows] == expected, view
    history = duck(warehouse, "SELECT source, count(*) AS n FROM assistant_history GROUP BY 1 ORDER BY 1")
    assert history == [{"source": "default", "n": len(DEFAULT_ASSISTANTS)}, {"source": "eu", "n": len(EU_ASSISTANTS)}]


def test_without_a_sources_file_the_environments_ids_serve_the_cli_too(tmp_path, monkeypatch):
    """The one source of the environment takes $ASSISTANTS_IDS_FILE when no option names the IDs, as a scheduled
    Dagster run does."""
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(a["id"] for a in DEFAULT_ASSISTANTS) + "\n", encoding="utf-8")
    with SandboxServer(StaticCatalog(DEFAULT_ASSISTANTS), api_key=KEY) as server:
        for name, value in {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
                            "ASSISTANTS_IDS_FILE": ids}.items():
            monkeypatch.setenv(name, str(value))
        assert snapshot(tmp_path / "wh") == 0
    rows = duck(tmp_path / "wh", "SELECT source, mode, ok_count FROM snapshot_runs")
    assert rows == [{"source": "default", "mode": "ids", "ok_count": len(DEFAULT_ASSISTANTS)}]
    assert not (tmp_path / "wh" / "sources").exists()
