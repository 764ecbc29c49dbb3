"""The blocking gates: what a run must pass before its answers may replace a date's snapshot.

A stored snapshot is the archive's copy of a day. A run that would thin it out
by accident must not replace it, so :func:`assistants_export.connectors.snapshot.fetch_snapshot`
asks :func:`judge` *before* it commits anything:

=================  ===========================================================  ====================
gate               the run is held back when                                    approval
=================  ===========================================================  ====================
``empty``          nothing was answered: an empty ID source, IDs that were all  ``allow_empty``
                   malformed, or an empty discover listing
``failed_share``   more than ``max_failed_share`` of the IDs answered ended     ``allow_failures``
                   ``failed`` (a dead endpoint, an outage)
``mass_deletion``  the snapshot would delete more than                          ``allow_mass_deletion``
                   ``mass_deletion_threshold`` of the assistants the history
                   holds live on the day before
=================  ===========================================================  ====================

Whole-run errors (a refused key, an endpoint that is gone, the run deadline)
hold a run back too; they are exceptions raised while fetching. A held-back
run's answers go to ``held/<date>/<run_id>/`` and the date's tables stay exactly
as they were. An approved gate is recorded in ``snapshot_runs.approved_gates``,
so the history step (and every later replay) knows the deletions were meant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from assistants_export.connectors.core import settings
from assistants_export.connectors.history.engine import (
    MASS_DELETION_GATE,
    live_before,
    mass_deletion_problem,
    snapshot_deletions,
)
from assistants_export.connectors.warehouse import Store

EMPTY_GATE = "empty"
FAILED_SHARE_GATE = "failed_share"
GATES = (EMPTY_GATE, FAILED_SHARE_GATE, MASS_DELETION_GATE)
ABORTED = "aborted"
"""What ``held.json`` names in place of a gate when a whole-run error stopped the fetch (its answers are partial)."""

APPROVAL_FLAGS = {
    EMPTY_GATE: "--allow-empty (Dagster: allow_empty: true)",
    FAILED_SHARE_GATE: "--allow-failures (Dagster: allow_failures: true)",
    MASS_DELETION_GATE: "--allow-mass-deletion (Dagster: allow_mass_deletion: true)",
}


@dataclass(frozen=True)
class Gates:
    """The limits a run is judged by, and which of them a user approved for this run."""

    max_failed_share: float = settings.DEFAULT_MAX_FAILED_SHARE
    mass_deletion_threshold: float = settings.DEFAULT_MASS_DELETION_THRESHOLD
    allow_empty: bool = False
    allow_failures: bool = False
    allow_mass_deletion: bool = False

    def approves(self, gate: str) -> bool:
        return {EMPTY_GATE: self.allow_empty, FAILED_SHARE_GATE: self.allow_failures,
                MASS_DELETION_GATE: self.allow_mass_deletion}[gate]


@dataclass
class Answers:
    """What a run heard, as far as the gates need it: counts by outcome and the IDs that decide deletions."""

    complete: bool
    """A discover listing names every assistant, so absence from it is a deletion."""
    outcomes: dict[str, int] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    """IDs fetched ``ok`` (kept in discover mode only, where absence counts)."""
    not_found: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    """IDs whose fate is unknown: ``invalid`` or ``failed`` (discover mode only)."""

    @property
    def answered(self) -> int:
        return sum(self.outcomes.get(o, 0) for o in ("ok", "not_found", "invalid", "failed"))


@dataclass(frozen=True)
class Verdict:
    """The gates a run failed (gate, one-line reason), and those it failed but a user approved."""

    held: tuple[tuple[str, str], ...]
    approved: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.held

    def message(self, snapshot_date: dt.date, held_dir: str) -> str:
        reasons = "; ".join(reason for _, reason in self.held)
        flags = " and ".join(APPROVAL_FLAGS[gate] for gate, _ in self.held)
        return (f"held back: {reasons}. The tables of {snapshot_date} were left as they were; this run's answers "
                f"are kept in {held_dir}. Fix the cause and re-run the date, or apply such a snapshot "
                f"deliberately with {flags}")


def judge(store: Store, snapshot_date: dt.date, answers: Answers, gates: Gates) -> Verdict:
    """Every gate the run fails, in the order of the table above."""
    failed: list[tuple[str, str]] = []
    if answers.answered == 0:
        rejected = answers.outcomes.get("rejected_id", 0)
        what = (f"all {rejected} IDs were malformed" if rejected
                else "the discover listing was empty" if answers.complete else "the ID source held no IDs")
        failed.append((EMPTY_GATE, f"no assistant was answered for {snapshot_date} ({what})"))
    else:
        failures = answers.outcomes.get("failed", 0)
        share = failures / answers.answered
        if share > gates.max_failed_share:
            failed.append((FAILED_SHARE_GATE, f"{failures} of {answers.answered} IDs ({share:.0%}) ended failed, "
                           f"above the {gates.max_failed_share:.0%} limit (max_failed_share)"))
    live = live_before(store, snapshot_date)
    deletions = snapshot_deletions(live, present=answers.present, not_found=answers.not_found,
                                   unknown=answers.unknown, complete=answers.complete)
    problem = mass_deletion_problem(store, snapshot_date, deletions, len(live), gates.mass_deletion_threshold)
    if problem is not None:
        failed.append((MASS_DELETION_GATE, problem))
    held = tuple((gate, reason) for gate, reason in failed if not gates.approves(gate))
    approved = tuple(gate for gate, _ in failed if gates.approves(gate))
    return Verdict(held, approved)
