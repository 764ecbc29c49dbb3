"""Fast start: the commands that run no Dagster (``--help``, ``query``, ``views``, ``history``, ``diff``, ``as-of``,
``migrate``) never import it; ``--help`` and ``views`` import none of Dagster, pandas, pyarrow, numpy, DuckDB and
httpx; ``history``, ``diff``, ``as-of`` and ``migrate`` no pyarrow (nor numpy), and none of them pandas. Each runs
whole in a fresh interpreter, which then reports which of those it loaded: module presence, not time, so the check
cannot be flaky (``benchmarks/startup.py`` measures the time)."""

import datetime as dt
import importlib
import os
import pkgutil
import subprocess
import sys

import click
import pytest
from snapshot_days import snapshot_days

from assistants_export.pipelines.cli import COMMANDS, cli
from assistants_export.sandbox import bundled_assistants

KEY = "sk-startup-Tq2wE9rY4u"
DAY1, DAY2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
FIXTURES = bundled_assistants()[:3]

PROBE = """
import sys
from assistants_export.pipelines.cli import run
status = run(sys.argv[1:])
heavy = {"dagster", "pandas", "pyarrow", "duckdb", "httpx", "numpy"}
loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy
                | set(sys.modules) & {"pyarrow.compute", "pyarrow.dataset", "pyarrow.parquet"})
print("status", status, "heavy", ",".join(loaded) or "-", file=sys.stderr)
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("startup") / "data"
    return snapshot_days(root, KEY, [a["id"] for a in FIXTURES], {DAY1: FIXTURES, DAY2: FIXTURES})


def loaded_by(arguments, warehouse):
    """Run the CLI with ``arguments`` in a fresh interpreter: its exit status and the heavy packages it loaded
    (Dagster, pandas, pyarrow, DuckDB, httpx, numpy; pyarrow's compute, dataset and parquet modules by name),
    comma-separated, or ``-``."""
    environment = {**os.environ, "ASSISTANTS_WAREHOUSE": str(warehouse)}
    environment.pop("DAGSTER_HOME", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], env=environment, capture_output=True,
                          text=True, timeout=120, check=False)
    last = done.stderr.strip().splitlines()[-1].split()
    assert last[0] == "status", done.stderr
    return int(last[1]), last[3]


@pytest.mark.parametrize("arguments", [
    ["--help"],
    ["query", "SELECT count(*) AS n FROM current_assistants"],
    ["views"],
    ["history", FIXTURES[0]["id"]],
    ["diff", "--from", DAY1.isoformat(), "--to", DAY2.isoformat()],
    ["as-of", DAY2.isoformat()],
    ["migrate", "--to", "responses"],
], ids=lambda arguments: arguments[0])
def test_commands_that_run_no_dagster_never_import_it(arguments, warehouse):
    status, loaded = loaded_by(arguments, warehouse)
    assert status == 0 and "dagster" not in loaded.split(","), loaded


@pytest.mark.parametrize("arguments", [
    ["query", "SELECT count(*) AS n FROM current_assistants"],
    ["query", "SELECT * FROM assistant_history", "--format", "json"],
    ["views"],
    ["history", FIXTURES[0]["id"]],
    ["diff", "--from", DAY1.isoformat(), "--to", DAY2.isoformat()],
    ["as-of", DAY2.isoformat()],
    ["migrate", "--to", "responses"],
], ids=lambda arguments: "-".join(arguments[:1] + arguments[2:]))
def test_commands_that_read_the_warehouse_never_import_pandas(arguments, warehouse):
    """pyarrow.dataset imports pandas (about a quarter of a second): the warehouse imports it where a dataset is
    built, never on these commands' path; nor pyarrow.compute, which only a write or a read of stored files
    needs. (The database holds this version's views, so no store is opened: see the next test.)"""
    status, loaded = loaded_by(arguments, warehouse)
    assert status == 0 and not {"pandas", "pyarrow.compute", "pyarrow.dataset"} & set(loaded.split(",")), loaded


@pytest.mark.parametrize("arguments", [
    ["history", FIXTURES[0]["id"]],
    ["diff", "--from", DAY1.isoformat(), "--to", DAY2.isoformat()],
    ["as-of", DAY2.isoformat()],
    ["as-of", DAY2.isoformat(), "--json"],
    ["migrate", "--to", "responses"],
], ids=lambda arguments: "-".join(arguments[:1] + arguments[2:]))
def test_commands_that_print_rows_never_import_pyarrow(arguments, warehouse):
    """pyarrow with numpy is about a fifth of a second: these commands take their rows from DuckDB as Python
    values, and the session uses the views the database holds (connectors.warehouse.views.record_views), so no
    store, no schema and no Arrow table is needed. Only ``query`` streams Arrow batches."""
    status, loaded = loaded_by(arguments, warehouse)
    assert status == 0 and not {"pyarrow", "numpy", "pandas"} & set(loaded.split(",")), loaded


def test_views_opens_nothing(warehouse):
    """``views`` lists the bundled SQL files: no DuckDB, no pyarrow."""
    assert loaded_by(["views"], warehouse) == (0, "-")


def test_help_imports_nothing_heavy(warehouse):
    assert loaded_by(["--help"], warehouse) == (0, "-")


def test_the_probe_sees_dagster_where_a_command_needs_it(warehouse):
    status, loaded = loaded_by(["snapshot", "--help"], warehouse)
    assert status == 0 and "dagster" in loaded.split(","), loaded


def test_the_listed_help_is_each_commands_own():
    """``--help`` lists the commands from COMMANDS without importing them: their sentences must stay the same."""
    context = click.Context(cli)
    for name, (module, sentence) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.callback.__module__.endswith(f".cli.{module}"), name
        assert command.get_short_help_str(limit=1000) == sentence, name
    assert sorted(cli.commands) == sorted(COMMANDS)


def test_every_command_module_is_listed():
    """A command in a module of ``pipelines/cli`` that COMMANDS does not name would never be imported, so never
    offered: importing every module must register exactly the commands COMMANDS lists."""
    import assistants_export.pipelines.cli as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "__main__":
            importlib.import_module(f"{package.__name__}.{module.name}")
    assert sorted(cli.commands) == sorted(COMMANDS)
