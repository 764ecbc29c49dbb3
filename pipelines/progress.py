"""The progress display of ``assistants-export snapshot``, and the hook through which the assets report to it.

The CLI runs the assets in-process, so a module-level reporter is the simplest
channel from the steps to the terminal; under ``dg dev`` nobody sets it and
reporting costs nothing. The display shows the phase (fetch, flatten, load,
history); while fetching, the IDs done out of how many (counted from the IDs
file first, which is cheap) or, in discover mode, the pages listed, the IDs by
outcome, the rate, the time left, and the retries. It is redrawn four times a
second from the client's live counters, so it keeps moving while requests are
retried and while the steps after the fetch run.
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from assistants_export.connectors.openai_assistants.client import ClientStats
from assistants_export.connectors.snapshot import FetchProgress

PHASES = ("fetch", "flatten", "load", "history")
PHASE_TEXT = {"flatten": "flattening the raw payloads", "load": "loading DuckDB", "history": "updating the history"}


class Reporter(FetchProgress):
    """What the assets report: the fetch (through :class:`FetchProgress`) and the phase that starts."""

    def phase(self, name: str) -> None:
        """The step ``name`` (one of :data:`PHASES`) starts."""


_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter


def current() -> Reporter | None:
    return _reporter


def phase(name: str) -> None:
    """Tell the display, if there is one, that the step ``name`` starts."""
    if _reporter is not None:
        _reporter.phase(name)


class ProgressDisplay(Reporter):
    """A rich progress display of one snapshot run; a context manager that shows it while open."""

    def __init__(self, console: Console, *, total: int | None, discover: bool = False, transient: bool = True) -> None:
        self.total = total
        self.discover = discover
        self.stats: ClientStats | None = None
        self._outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.bar = Progress(SpinnerColumn(finished_text="✓"), TextColumn("{task.fields[phase]:<7}"),
                            BarColumn(bar_width=24), _Details(self), TimeElapsedColumn(),
                            console=console, transient=transient, refresh_per_second=4)
        self._fetch = self.bar.add_task("fetch", total=total, phase="fetch")
        self._phase: TaskID | None = None

    # --- what the run reports ---------------------------------------------------------------

    def started(self, stats: ClientStats) -> None:
        self.stats = stats

    def finished(self, outcome: str) -> None:
        with self._lock:
            self._outcomes[outcome] += 1
        self.bar.advance(self._fetch, 1)

    def phase(self, name: str) -> None:
        if name == "fetch":
            return
        if not self.bar.tasks[self._fetch].finished:
            done = self.bar.tasks[self._fetch].completed
            self.bar.update(self._fetch, total=done, completed=done)
        if self._phase is not None:
            self.bar.update(self._phase, total=1, completed=1)
        self._phase = self.bar.add_task(name, total=None, phase=name)

    # --- what it shows ---------------------------------------------------------------------------

    def outcomes(self) -> dict[str, int]:
        with self._lock:
            return dict(self._outcomes)

    def details(self, task: Task) -> Text:
        """The text after the bar: counts, rate, time left and retries for the fetch; what runs for a phase."""
        if task.id != self._fetch:
            return Text(PHASE_TEXT.get(task.fields["phase"], ""), style="progress.description")
        done = int(task.completed)
        parts = []
        if self.discover:
            pages = max(0, self.stats.requests - self.stats.retries) if self.stats else 0
            parts.append(f"page {pages:,}, {done:,} listed")
        elif self.total is not None:
            parts.append(f"{done:,}/{self.total:,} IDs")
        else:
            parts.append(f"{done:,} IDs")
        speed = task.finished_speed if task.finished else task.speed
        if speed:
            parts.append(f"{speed:,.0f}/s")
        if not task.finished and self.total is not None and speed:
            remaining = max(0.0, (self.total - done) / speed)
            parts.append(f"ETA {int(remaining) // 60}:{int(remaining) % 60:02d}")
        outcomes = self.outcomes()
        if outcomes:
            parts.append(" ".join(f"{name} {count:,}" for name, count in sorted(outcomes.items())))
        if self.stats is not None and self.stats.retries:
            limited = f", {self.stats.rate_limited:,} rate-limited" if self.stats.rate_limited else ""
            parts.append(f"{self.stats.retries:,} retries{limited}, {self.stats.waited_seconds:,.1f}s waited")
        return Text(" · ".join(parts), style="progress.description")

    def renderable(self) -> RenderableType:
        """What the display shows now (for a test: print it to a console of its own)."""
        return self.bar.get_renderable()

    # --- showing it -------------------------------------------------------------------------------

    def __enter__(self) -> ProgressDisplay:
        self.bar.start()
        set_reporter(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        set_reporter(None)
        self.bar.stop()


class _Details(ProgressColumn):
    def __init__(self, display: ProgressDisplay) -> None:
        super().__init__()
        self.display = display

    def render(self, task: Task) -> Text:
        return self.display.details(task)
