"""Named crash points, for proving that a run killed at the worst moment loses nothing.

The code calls :func:`reach` at the moments where a crash would hurt most (half
way through fetching, between the two renames of a partition swap, inside the
DuckDB transaction...). Normally that call does nothing: the set of enabled
points is read once, at import, from ``ASSISTANTS_FAILPOINTS``, and is empty.

When the variable names a point, the process sends itself ``SIGKILL`` on
reaching it: no ``finally`` block, no ``atexit`` hook, no flush runs, exactly as
when the kernel's OOM killer or a lost machine ends a run. The crash tests
(``tests/reliability/test_crash_safety.py``) run the CLI in a subprocess this way
and then check what a reader sees and that a re-run repairs everything.

Syntax: ``ASSISTANTS_FAILPOINTS=name[@N][,name[@N]...]``; ``@N`` kills on the
N-th time the point is reached (default: the first), so ``fetch@40`` dies after
40 assistants were handed to the writer.

Tests can also **pause** a process at a point, to act on it at that exact moment (send it Ctrl-C, start a
second run): ``ASSISTANTS_PAUSEPOINTS`` takes the same syntax, and ``ASSISTANTS_PAUSE_DIR`` names a folder.
On reaching the point the process writes ``<dir>/<name>.paused`` (holding its PID) and waits until
``<dir>/<name>.go`` exists, then goes on. Signals are handled while it waits. Unset, pausing costs nothing
either.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError

ENV_VAR = "ASSISTANTS_FAILPOINTS"
PAUSE_VAR = "ASSISTANTS_PAUSEPOINTS"
PAUSE_DIR_VAR = "ASSISTANTS_PAUSE_DIR"

POINTS: dict[str, str] = {
    "fetch": "each fetched ID handed to the batch writer (results staged, nothing committed)",
    "parquet.staged": "a partition file written and closed in staging, before any rename",
    "parquet.swap": "a partition about to be replaced: its new file staged and durable, the old one still in "
                    "place, the one rename not yet made (reached only when the date was written before)",
    "duckdb.table": "inside the DuckDB transaction, after one table of the date was deleted and re-inserted, "
                    "before the next (``duckdb.table@2``: two tables replaced, the others not yet)",
    "duckdb.load": "inside the DuckDB transaction, after a date's tables were deleted and re-inserted, before "
                   "COMMIT",
    "duckdb.committed": "right after the DuckDB COMMIT, before the connection is closed (no checkpoint yet)",
    "history": "in the history step, after the change-log partitions were written, before the history file "
               "is replaced",
    "commit": "the fetch step about to commit: every answer received and the gates passed, nothing of the date "
              "replaced yet",
    "flatten": "the flatten step begins (the date's payloads stored)",
    "compact.month": "a folder's compaction wrote one month's merged file, before the table's manifest names it",
    "compact.table": "a folder's compaction switched one table to its merged files (manifest replaced), before the "
                     "next table",
    "compact.uncover": "a date of a compacted month written again: its own file in place and its month's file "
                       "rewritten without it, before the manifest's rename",
    "lake.compact": "a bucket's compaction merged one Delta table's files, before the next table",
    "vacuum.delete": "a vacuum about to delete one replaced file of a folder, or one Delta table's "
                     "(``vacuum.delete@3``: two done, the rest not)",
}
"""Every crash point and where it sits; :func:`parse` refuses any other name."""


def parse(spec: str, variable: str = ENV_VAR) -> dict[str, int]:
    """``"fetch@40,parquet.swap"`` -> ``{"fetch": 40, "parquet.swap": 1}``; unknown names raise ValueError.

    Refusing an unknown name matters: a typo would otherwise make a crash test
    pass without ever crashing.
    """
    points: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition("@")
        if name not in POINTS:
            raise ValueError(f"{variable}: unknown failpoint {name!r}; known: {', '.join(POINTS)}")
        if count and not (count.isdigit() and int(count) >= 1):
            raise ValueError(f"{variable}: {item!r} needs a whole number of at least 1 after '@'")
        points[name] = int(count or 1)
    return points


def _from_environment(environ: Mapping[str, str]) -> dict[str, int]:
    """The armed points; a bad value is a :class:`ConfigError` (one line), since every command imports this."""
    try:
        return parse(environ.get(ENV_VAR, ""))
    except ValueError as exc:
        raise ConfigError(f"{exc} (the variable is for the crash tests: unset it)") from None


_armed: dict[str, int] = _from_environment(os.environ)
"""Point -> hits left before the kill; empty in every normal run."""
_paused: dict[str, int] = parse(os.environ.get(PAUSE_VAR, ""), PAUSE_VAR)
"""Point -> hits left before the pause; empty in every normal run."""
_pause_dir = os.environ.get(PAUSE_DIR_VAR, "")


def arm(environ: Mapping[str, str]) -> None:
    """Read the points from ``environ`` again (a test's process forked after this module was imported)."""
    global _armed, _paused, _pause_dir
    _armed = _from_environment(environ)
    _paused = parse(environ.get(PAUSE_VAR, ""), PAUSE_VAR)
    _pause_dir = environ.get(PAUSE_DIR_VAR, "")


def reach(name: str) -> None:
    """Mark that ``name`` was reached; kill the process if that point is armed and its count is up (or pause it).

    Costs two truth tests of empty dicts when nothing is armed.
    """
    if _armed and name in _armed:
        _armed[name] -= 1
        if _armed[name] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
    if _paused and name in _paused:
        _paused[name] -= 1
        if _paused[name] == 0:
            _pause(name)


def _pause(name: str) -> None:
    folder = Path(_pause_dir or ".")
    go = folder / f"{name}.go"
    (folder / f"{name}.paused").write_text(str(os.getpid()), encoding="ascii")
    while not go.exists():
        time.sleep(0.01)

