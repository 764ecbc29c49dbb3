"""Ctrl-C (SIGINT) and SIGTERM during a snapshot: stop before the commit, or finish the commit once it began.

A signal that raises wherever the program happens to be (Python's default, and Dagster's handler) cannot keep
a promise about the warehouse: it landed inside asyncio's machinery (a traceback, and the listing went on),
inside a DuckDB query (``RuntimeError: Query interrupted``), or between the Parquet commit and the DuckDB load
(Parquet new, DuckDB old, and a message saying the date was as it was). So the CLI's handler only *records*
the signal (:func:`request`), and the run acts on it where it is safe:

* **before the commit** the fetch stops at once: the asyncio task is cancelled (:func:`cancel_on_interrupt`)
  and each answer handed on checks the flag (:func:`check`), raising :class:`Interrupted`; nothing of the date
  is written, and the CLI ends with exit status 130 saying so;
* **the commit** begins at one call, :func:`begin_commit`, which decides under a lock: an interrupt recorded
  before it stops the run there; after it, an interrupt is only remembered, and the run finishes the commit,
  the DuckDB load and the history, so Parquet and DuckDB agree, before the CLI ends (exit status 130, one line
  saying the snapshot was stored).

Nothing here acts unless the CLI installed its handler (:func:`handling`): in Dagster's own processes, and in
a program calling the connector, signals keep their usual meaning.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


class Interrupted(KeyboardInterrupt):
    """The run stopped for a Ctrl-C (or SIGTERM) recorded before its commit began: nothing of the date was written.

    A :class:`KeyboardInterrupt`, so no ``except Exception`` on the way out swallows it and Dagster takes it for
    the interrupt it is."""


class _State:
    def __init__(self) -> None:
        self.guard = threading.RLock()
        """Re-entrant: the signal handler may run in the main thread while that thread holds it."""
        self.active = False
        """Whether the CLI's handler is installed (a run it watches is going on)."""
        self.signal = 0
        """The first signal received, 0 for none."""
        self.committing = False
        """Whether a commit began in this run (sticky: it finishes whatever follows)."""
        self.cancel: Callable[[], None] | None = None


_state = _State()


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Act on recorded interrupts inside the block (the CLI installs its signal handler around it)."""
    with _state.guard:
        _state.active, _state.signal, _state.committing, _state.cancel = True, 0, False, None
    try:
        yield
    finally:
        with _state.guard:
            _state.active, _state.cancel = False, None


def watching() -> bool:
    """Whether the CLI's handler records interrupts now (then it runs Dagster in a thread of its own)."""
    return _state.active


def request(signum: int) -> tuple[bool, bool]:
    """Record a signal; returns (whether it is the first, whether a commit has begun).

    The first one before the commit cancels the fetch in progress, if there is one.
    """
    with _state.guard:
        first = _state.signal == 0
        if first:
            _state.signal = signum
        committing, cancel = _state.committing, _state.cancel
    if first and not committing and cancel is not None:
        cancel()
    return first, committing


def requested() -> int:
    """The signal recorded (SIGINT, SIGTERM), 0 when none was."""
    return _state.signal if _state.active else 0


def commit_began() -> bool:
    return _state.committing


def check() -> None:
    """Raise :class:`Interrupted` if an interrupt was recorded and no commit has begun (a point where stopping
    loses nothing: the date's tables are untouched)."""
    if _state.active and _state.signal and not _state.committing:
        raise Interrupted


def cancel_again() -> None:
    """Cancel the fetch again if an interrupt was recorded and the fetch goes on (its cancellation was swallowed
    somewhere): called for every answer handed on, so it costs two attribute reads otherwise."""
    if _state.signal and _state.active and not _state.committing and _state.cancel is not None:
        _state.cancel()


def begin_commit() -> None:
    """The run is about to replace the date's tables: raise :class:`Interrupted` if an interrupt came first,
    otherwise from now on an interrupt waits for the run to finish (the commit, the load, the history)."""
    if not _state.active:
        return
    with _state.guard:
        if _state.signal:
            raise Interrupted
        _state.committing = True


@contextlib.contextmanager
def cancel_on_interrupt(cancel: Callable[[], None]) -> Iterator[None]:
    """Call ``cancel`` (thread-safe: it runs in the thread that got the signal) if an interrupt comes inside the
    block, or at once if one came already (raising here, inside an event loop, would leave asyncio a task whose
    exception nobody retrieved, and a traceback on stderr)."""
    with _state.guard:
        _state.cancel = cancel
        already = bool(_state.active and _state.signal and not _state.committing)
    if already:
        cancel()
    try:
        yield
    finally:
        with _state.guard:
            _state.cancel = None
