"""Every command that writes a file the user names writes it one way (``pipelines/cli/outfile.py``).

``query -o`` and ``migrate -o``: a regular file only, never through a symlink, a FIFO or a device (the result
is renamed over the target, which would replace ``/dev/null`` itself, as root), nothing inside the warehouse,
written atomically; ``-`` is standard output. A full disk, a file too large and a closed pipe end in one line
(a closed pipe in none, status 0), never a traceback: these run the real command in a process of its own.
"""

import datetime as dt
import json
import os
import resource
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from cli_command import CLI
from snapshot_days import snapshot_days

from assistants_export.pipelines.cli import run
from assistants_export.sandbox import bundled_assistants

KEY = "sk-output-Wq3zR8mT1vBn"
DATE = dt.date(2026, 11, 20)
COMMANDS = {
    "query": ["query", "--view", "current_assistants", "--format", "json"],
    "migrate": ["migrate", "--to", "responses"],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    fixtures = bundled_assistants()[:12]
    root = tmp_path_factory.mktemp("output") / "data"
    return snapshot_days(root, KEY, [a["id"] for a in fixtures], {DATE: fixtures})


def assert_one_error_line(stderr, *parts):
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    assert text.startswith("error: ") and text.count("\n") == 1 and text.endswith("\n"), text
    for part in parts:
        assert part in text, text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_anything_but_a_regular_file_is_refused_and_left_as_it_was(command, warehouse, tmp_path, capsys):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    link = tmp_path / "link.out"
    link.symlink_to(precious)
    dangling = tmp_path / "dangling.out"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo = tmp_path / "pipe.out"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    cases = [(link, "a symbolic link"), (dangling, "a symbolic link"), (fifo, "a FIFO"), (folder, "a folder"),
             (Path(os.devnull), "a device"), (Path("/dev/full"), "a device"),
             (warehouse / "assistants.duckdb", "inside the warehouse"),
             (warehouse / "parquet" / "new.csv", "inside the warehouse"),
             (tmp_path / "missing" / "x.out", "does not exist"), (precious / "x.out", "is not a folder")]
    for path, says in cases:
        status = run([*COMMANDS[command], "-o", str(path), "--warehouse", str(warehouse)])
        _, err = capsys.readouterr()
        assert status == 1, path
        assert_one_error_line(err, str(path), says)
    assert link.is_symlink() and os.readlink(link) == str(precious) and dangling.is_symlink()
    assert precious.read_text(encoding="utf-8") == "keep me" and not (tmp_path / "nowhere").exists()
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and list(folder.iterdir()) == []
    for device in (os.devnull, "/dev/full"):
        assert stat.S_ISCHR(os.lstat(device).st_mode), device
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.out", "folder", "link.out", "pipe.out",
                                                          "precious.txt"]
    assert not (warehouse / "parquet" / "new.csv").exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_regular_file_is_replaced_whole_keeping_its_permissions(command, warehouse, tmp_path, capsys):
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    assert run([*COMMANDS[command], "-o", str(target), "--warehouse", str(warehouse)]) == 0
    text = target.read_text(encoding="utf-8")
    rows = json.loads(text) if command == "query" else [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 12
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_standard_output_on_a_full_device_is_one_line(command, warehouse):
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*CLI, *COMMANDS[command], "--warehouse",
                               str(warehouse)], stdout=full, stderr=subprocess.PIPE, timeout=180, check=False)
    assert done.returncode == 1
    assert_one_error_line(done.stderr, "could not write standard output: No space left on device")


def test_a_closed_pipe_ends_the_command_quietly(warehouse):
    """`| head -1`: the reader goes away after one line; the command stops, says nothing, exits 0."""
    command = [*CLI, "query", "SELECT range AS n FROM range(2000000)", "--format",
               "csv", "--warehouse", str(warehouse)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout.readline() == b"n\n"
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=180) == 0
    assert err == b""


def _file_size_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_write_that_fails_part_way_is_one_line_and_leaves_the_file_as_it_was(command, warehouse, tmp_path):
    """The file system refuses the write half-way (here a file-size limit, EFBIG; a full disk is the same path):
    one line naming the file, the old file intact, no temporary file left."""
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    done = subprocess.run([*CLI, *COMMANDS[command], "-o", str(target),
                           "--warehouse", str(warehouse)], capture_output=True, timeout=180, check=False,
                          preexec_fn=_file_size_limit(4096))
    assert done.returncode == 1
    assert_one_error_line(done.stderr, f"could not write {target}: File too large")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
