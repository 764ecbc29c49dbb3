"""A hook through which the CLI's progress bar hears about finished IDs.

The CLI runs the assets in-process, so a module-level callback is the simplest
channel from the fetch step to the terminal; under ``dg dev`` nobody sets
it and reporting costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_reporter: Callable[[int], None] | None = None


def set_reporter(reporter: Callable[[int], None] | None) -> None:
    global _reporter
    _reporter = reporter


def current() -> Callable[[int], None] | None:
    return _reporter
