"""Standard output gone away: what every command needs at exit, without importing anything heavy."""

from __future__ import annotations

import os
import sys


def silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output): nothing will be flushed
        pass
