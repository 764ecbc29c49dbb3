"""Output that is never cut: with standard output a pipe (not a terminal), ``query``, ``history``, ``diff`` and
``as-of`` print every table whole (no elided ID or cell, however narrow ``COLUMNS`` says the screen is), in plain
ASCII, and a line of text stays one line. Each runs the real command in a process of its own, stdout a pipe."""

import copy
import datetime as dt
import os
import subprocess

import pytest
from cli_command import CLI
from snapshot_days import snapshot_days

from assistants_export.sandbox import bundled_assistants

KEY = "sk-piped-Hc4nV8qLw2Zs"
DAY1, DAY2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
LONG_ID = "asst_" + "gen" + "0" * 60 + "lastdigits9"
LONG_NAME = "A name long enough to be cut by any eighty-column table " * 2 + "END-OF-NAME"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    first = copy.deepcopy(bundled_assistants()[:3])
    first[0]["id"] = LONG_ID
    second = copy.deepcopy(first)
    second[0]["name"] = LONG_NAME
    second[0]["instructions"] = "Instructions grown long: " + "x" * 150 + " END-OF-INSTRUCTIONS"
    root = tmp_path_factory.mktemp("piped") / "data"
    return snapshot_days(root, KEY, [a["id"] for a in first], {DAY1: first, DAY2: second})


def piped(*arguments, warehouse):
    """The command's standard output through a pipe, in a narrow 40-column environment."""
    environment = {**os.environ, "COLUMNS": "40", "TERM": "xterm-256color"}
    done = subprocess.run([*CLI, *arguments, "--warehouse", str(warehouse)], capture_output=True, text=True,
                          env=environment, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout and "\x1b[" not in done.stdout, done.stdout
    return done.stdout


def test_diff_prints_every_id_and_field_whole(warehouse):
    out = piped("diff", "--from", DAY1.isoformat(), "--to", DAY2.isoformat(), warehouse=warehouse)
    row = next(line for line in out.splitlines() if LONG_ID in line)
    assert LONG_NAME in row and "instructions" in row and "name" in row
    assert "1 assistant(s) changed" in out
    assert all(ord(c) < 128 for c in out), out  # plain ASCII boxes


def test_history_prints_old_and_new_values_whole(warehouse):
    out = piped("history", LONG_ID, warehouse=warehouse)
    assert f"History of {LONG_ID}\n" in out
    assert LONG_NAME in out and "END-OF-INSTRUCTIONS" in out


def test_as_of_prints_every_id_whole(warehouse):
    out = piped("as-of", DAY2.isoformat(), warehouse=warehouse)
    row = next(line for line in out.splitlines() if LONG_ID in line)
    assert LONG_NAME in row


def test_query_table_prints_every_cell_whole(warehouse):
    out = piped("query", "SELECT assistant_id, name, instructions FROM current_assistants ORDER BY assistant_id",
                "--format", "table", warehouse=warehouse)
    row = next(line for line in out.splitlines() if LONG_ID in line)
    assert LONG_NAME in row and row.rstrip().endswith("END-OF-INSTRUCTIONS")
