"""Every failure of the command is one line: ``error: ...`` on stderr saying what to fix, never a traceback.

The installed command runs in a process of its own, as a user runs it, with a bad setting, a bad value or an
unusable place; each must end with a non-zero status and exactly one stderr line. What no command foresaw is
one line too, with the traceback under ``ASSISTANTS_DEBUG=1``.
"""

import datetime as dt
import os
import subprocess

import pytest
from cli_command import CLI
from snapshot_days import snapshot_days

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

KEY = "sk-failures-Lq7vX2nR5t"
DATE = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    fixtures = bundled_assistants()[:3]
    return snapshot_days(tmp_path_factory.mktemp("failures") / "data", KEY, [a["id"] for a in fixtures],
                         {DATE: fixtures})


def cli(args, env=None, **kwargs):
    """The command in a process of its own (no API reachable: port 9 on loopback refuses at once)."""
    environment = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    environment.update({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", **(env or {})})
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run([*CLI, *args], env=environment, timeout=180, check=False,
                          **streams)


def assert_one_line(done, *parts, status=None):
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0 if status is None else done.returncode == status, (done.returncode, err)
    assert "Traceback" not in err, err
    assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), err
    for part in parts:
        assert part in err, err
    return err


# --- settings read from the environment ---------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "args", "says"), [
    ({"ASSISTANTS_START_DATE": "garbage"}, ["query", "SELECT 1"], "ASSISTANTS_START_DATE=garbage: not a date like"),
    ({"ASSISTANTS_START_DATE": "2026-11-20T00:00"}, ["snapshot", "--ids", "asst_a"], "not a date like 2023-11-06"),
    ({"ASSISTANTS_START_DATE": "2999-01-01"}, ["views"], "ASSISTANTS_START_DATE=2999-01-01: in the future"),
    ({"ASSISTANTS_DISCOVER": "maybe"}, ["snapshot", "-q"], "ASSISTANTS_DISCOVER=maybe: give 1 to turn it on"),
    ({"ASSISTANTS_FAILPOINTS": "nope"}, ["views"], "ASSISTANTS_FAILPOINTS: unknown failpoint 'nope'"),
    ({"ASSISTANTS_SOURCES_FILE": "/dev/zero"}, ["snapshot", "--ids", "asst_a"],
     "ASSISTANTS_SOURCES_FILE=/dev/zero: cannot be read (it is a device)"),
    ({"ASSISTANTS_DUCKDB_CACHE": os.devnull}, ["query", "SELECT 1", "--warehouse", "s3://bucket/prefix"],
     "/dev/null is a device, not a folder: set ASSISTANTS_DUCKDB_CACHE to a folder"),
    ({"ASSISTANTS_WAREHOUSE": "/proc/self"}, ["query", "SELECT 1"], "warehouse /proc/self: it is in /proc"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(env, args, says, tmp_path):
    assert_one_line(cli(args, env, cwd=tmp_path), says)
    assert os.listdir(tmp_path) == []


def test_dagster_home_that_is_a_file_is_one_line(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder", encoding="utf-8")
    done = cli(["snapshot", "--ids", "asst_a", "-q", "--warehouse", str(tmp_path / "wh")], {"DAGSTER_HOME": str(home)})
    assert_one_line(done, f"DAGSTER_HOME {home}: it is a regular file, not a folder")


def test_the_schedule_variables_are_checked_with_their_names():
    from assistants_export.pipelines.schedules import schedule_settings

    assert schedule_settings({}) == ("0 2 * * *", "UTC")
    with pytest.raises(ConfigError, match=r"ASSISTANTS_SCHEDULE_CRON=garbage: not a cron expression"):
        schedule_settings({"ASSISTANTS_SCHEDULE_CRON": "garbage"})
    with pytest.raises(ConfigError, match=r"ASSISTANTS_SCHEDULE_TIMEZONE=Mars/Olympus: not a time zone"):
        schedule_settings({"ASSISTANTS_SCHEDULE_TIMEZONE": "Mars/Olympus"})


# --- values on the command line -----------------------------------------------------------------------------------

def test_a_huge_integer_parameter_is_one_line(warehouse):
    digits = "9" * 5000
    done = cli(["query", "SELECT $v AS v", "--param", f"v={digits}", "--warehouse", str(warehouse)])
    err = assert_one_line(done, "v=99999999999999999999...(5,000 digits) is an integer beyond 64 bits", status=2)
    assert len(err) < 400
    done = cli(["query", "SELECT $v AS v", "--param", "v=9223372036854775808", "--warehouse", str(warehouse)])
    assert_one_line(done, "beyond 64 bits", status=2)  # DuckDB bound it as an unsigned 64-bit type


def test_a_share_that_is_not_a_number_is_one_line(tmp_path):
    done = cli(["snapshot", "--ids", "asst_a", "--max-failed-share", "nan", "--warehouse", str(tmp_path / "wh")])
    assert_one_line(done, "'nan' is not a number from 0 to 1", status=2)


# --- places that cannot be a warehouse ----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "says"), [
    (["query", "SELECT 1", "--warehouse", "/proc/self"], "it is in /proc"),
    (["snapshot", "--ids", "asst_a", "-q", "--warehouse", "/proc/self"], "it is in /proc"),
    (["rebuild-duckdb", "--warehouse", "/proc/self"], "it is in /proc"),
    (["snapshot", "--ids", "asst_a", "-q", "--warehouse", os.devnull], "it is a device, not a folder"),
    (["rebuild-duckdb", "--warehouse", "{file}/below"], "{file} is a regular file, not a folder"),
    (["copy-warehouse", "--warehouse", "{file}/below", "--to", "{tmp}/copy"], "is a regular file, not a folder"),
])
def test_an_unusable_warehouse_is_one_line(args, says, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    argv = [a.format(file=file, tmp=tmp_path) for a in args]
    assert_one_line(cli(argv), says.format(file=file))
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


# --- devices and encodings ----------------------------------------------------------------------------------------

def test_standard_output_on_a_full_device_is_one_line_for_any_command():
    with open("/dev/full", "wb") as full:
        done = cli(["views"], stdout=full)
    assert_one_line(done, "No space left on device")


def test_query_output_is_utf8_whatever_the_locale(warehouse):
    done = cli(["query", "SELECT 'café 😀' AS x", "--format", "csv", "--warehouse", str(warehouse)],
               {"PYTHONIOENCODING": "ascii", "LC_ALL": "C"})
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode("utf-8") == "x\ncafé 😀\n"


# --- what nobody foresaw ------------------------------------------------------------------------------------------

@pytest.fixture
def broken_command():
    """A command with a bug, registered for one test."""

    from assistants_export.pipelines.cli import cli as group

    @group.command("broken-for-test")
    def broken() -> None:
        raise KeyError("a\nmulti-line\nmessage")

    yield
    del group.commands["broken-for-test"]


def test_an_unexpected_exception_is_one_line_and_its_traceback_is_there_on_request(broken_command, capsys,
                                                                                    monkeypatch):
    monkeypatch.delenv("ASSISTANTS_DEBUG", raising=False)
    assert run(["broken-for-test"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected KeyError: ") and err.count("\n") == 1, err
    assert "ASSISTANTS_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("ASSISTANTS_DEBUG", "1")
    assert run(["broken-for-test"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "KeyError" in err
    assert err.splitlines()[-1].startswith("error: unexpected KeyError: ")
