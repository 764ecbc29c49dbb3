"""Retention of one source's snapshots (off by default): old dates lose their snapshot rows, dead payloads go.

``assistants-export compact --keep-days N`` keeps the snapshots of the last ``N`` days, counted back from the
newest stored date (which is always kept). An older date that the history has already replayed loses its rows
of ``snapshot_members`` and ``fetch_errors`` (:meth:`remove_partition`, out of a compacted month too); its
``snapshot_runs`` row stays, the audit trail of every night that ran. The history (``assistant_versions`` and
``assistant_changes``) is not touched, so ``assistant_history``, ``assistant_changes`` and ``config_as_of`` answer
as before; ``raw_assistants`` and the flattened views have no rows for the removed dates.

Then the payload tables (and ``responses_mappings``) are collected: a payload row whose hash no kept date names, no
history version names and no held run needs (``keep``) is removed, each payload partition rewritten without those
rows in one commit. Such orphans also arise without retention (a ``--force`` re-run of a date that no longer names a
payload): the same collection runs with every ``--keep-days``, and alone with ``--collect-payloads``.

The history knows where retention stopped (:func:`retention_horizon`): a replayed date whose run stored answers
and whose membership has no rows was removed by retention, so the history never replays from before the first date
kept after it.

A kill at any point changes no answer about the kept data: a date's rows go table by table (a date whose
membership is gone but whose errors are not is removed again by the next run), and each payload partition is
rewritten whole, keeping every row a kept date, the history or a held run names.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from assistants_export.connectors.core import failpoints
from assistants_export.connectors.core.schemas import (
    ASSISTANT_VERSIONS,
    FETCH_ERRORS,
    PAYLOAD_TABLES,
    RESPONSES_MAPPINGS,
    SNAPSHOT_MEMBERS,
    SNAPSHOT_RUNS,
)

from .stores import Store

log = logging.getLogger(__name__)

REMOVED_TABLES = (SNAPSHOT_MEMBERS, FETCH_ERRORS)
COLLECTED_TABLES = (*PAYLOAD_TABLES, RESPONSES_MAPPINGS)
"""The tables keyed by payload that the collection rewrites without the payloads nothing needs."""
"""What a date older than the retention loses (``snapshot_runs``, the audit trail, is kept)."""


@dataclass
class Retained:
    """What retention removed (or, in a dry run, would remove) from one source."""

    keep_days: int | None
    horizon: dt.date | None = None
    """The first date kept; the dates before it lost their snapshot rows."""
    dates: list[dt.date] = field(default_factory=list)
    payload_rows: dict[str, int] = field(default_factory=dict)
    date_bytes: int = 0
    """Arrow bytes of the removed dates' rows (members and errors)."""
    payload_bytes: int = 0
    """Arrow bytes of the payload rows removed."""
    touched: set[dt.date] = field(default_factory=set)
    """Dates some table of which was rewritten: what DuckDB loads again."""
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out = []
        if self.keep_days is not None:
            if self.dates:
                span = (f"{self.dates[0]}" if len(self.dates) == 1 else
                        f"{len(self.dates)} dates, {self.dates[0]} .. {self.dates[-1]}")
                out.append(f"retention ({self.keep_days} days, kept from {self.horizon}): {verb} the snapshot "
                           f"rows of {span}, {_size(self.date_bytes)}")
            else:
                out.append(f"retention ({self.keep_days} days): no date to remove")
        rows = sum(self.payload_rows.values())
        detail = ", ".join(f"{name} {count}" for name, count in self.payload_rows.items() if count)
        out.append(f"payloads no kept date, history or held run needs: {verb} {rows} row(s)"
                   + (f" ({detail})" if detail else "") + f", {_size(self.payload_bytes)}")
        return out


def retention_horizon(store: Store) -> dt.date | None:
    """The first date after the dates retention removed, ``None`` when it never removed one. The history never
    replays from before it.

    A removed date is a replayed one whose run stored answers (``ok_count``) and whose membership has no rows any
    more: on a folder its partition is gone, and a bucket lists no partition without rows.
    """
    runs = store.dataset(SNAPSHOT_RUNS)
    if runs is None:
        return None
    table = runs.to_table(columns=["snapshot_date", "ok_count"])
    answered = {d for d, ok in zip(table.column("snapshot_date").to_pylist(), table.column("ok_count").to_pylist(),
                                   strict=True) if ok}
    members = set(store.partition_dates(SNAPSHOT_MEMBERS.name))
    replayed = set(store.replayed_dates())
    removed = [d for d in answered if d in replayed and d not in members]
    if not removed:
        return None
    last = max(removed)
    after = [d for d in members if d > last]
    return min(after) if after else last + dt.timedelta(days=1)


def apply_retention(store: Store, keep_days: int | None, *, keep: set[str] | frozenset[str] = frozenset(),
                    dry_run: bool = False) -> Retained:
    """Remove the snapshot rows of the dates older than ``keep_days`` (none with ``None``), then every payload row
    no kept date, no history version and nothing in ``keep`` (the held runs' hashes) names.

    The caller holds the source's writer lock.
    """
    done = Retained(keep_days, dry_run=dry_run)
    members = store.membership_dates()
    if not members:
        return done
    if keep_days is not None:
        newest = members[-1]
        done.horizon = newest - dt.timedelta(days=keep_days)
        replayed = set(store.replayed_dates())
        done.dates = [d for d in members if d < done.horizon and d != newest and d in replayed
                      and any(store.has_partition(spec.name, d) for spec in REMOVED_TABLES)]
        waiting = [d for d in members if d < done.horizon and d not in replayed]
        if waiting:
            log.warning("retention keeps %d date(s) the history has not replayed yet (%s ..)", len(waiting), waiting[0])
        for date in store.partition_dates(FETCH_ERRORS.name):  # left by a retention killed between the two tables
            if date < done.horizon and date not in members and date in replayed and date not in done.dates:
                done.dates.append(date)
        done.dates.sort()
        for date in done.dates:
            for spec in REMOVED_TABLES:
                if not store.has_partition(spec.name, date):
                    continue
                rows = store.read(spec, date)
                done.date_bytes += rows.nbytes
                if not dry_run:
                    store.remove_partition(spec.name, date)
                    failpoints.reach("retention.date")
            done.touched.add(date)
    gone = set(done.dates)
    needed = _needed_hashes(store, gone) | set(keep)
    wanted = pa.array(sorted(needed), pa.string())
    for spec in COLLECTED_TABLES:
        done.payload_rows[spec.name] = 0
        dataset = store.dataset(spec)
        if dataset is None:
            continue
        unneeded = dataset.to_table(columns=["snapshot_date"], filter=~pc.field("content_hash").isin(wanted))
        for date in sorted(set(unneeded.column("snapshot_date").to_pylist())):  # one scan finds the dates to rewrite
            table = store.read(spec, date)
            mask = pc.is_in(table.column("content_hash"), value_set=wanted)
            kept = table.filter(mask)
            done.payload_rows[spec.name] += table.num_rows - kept.num_rows
            done.payload_bytes += table.nbytes - kept.nbytes
            done.touched.add(date)
            if dry_run:
                continue
            meta = store.partition_metadata(spec.name, date)
            with store.writer(spec, date, metadata=meta[0] if meta else None) as out:
                out.write(kept)
            failpoints.reach("retention.payloads")
    return done


def _needed_hashes(store: Store, gone: set[dt.date]) -> set[str]:
    """The hashes a kept date's membership or a history version names."""
    needed: set[str] = set()
    members = store.dataset(SNAPSHOT_MEMBERS)
    if members is not None:
        kept = members.to_table(columns=["snapshot_date", "content_hash"])
        if gone:
            kept = kept.filter(pc.invert(pc.is_in(kept.column("snapshot_date"),
                                                  value_set=pa.array(sorted(gone), pa.date32()))))
        needed.update(kept.column("content_hash").to_pylist())
    versions = store.read_table_file(ASSISTANT_VERSIONS, columns=["content_hash"])
    if versions is not None:
        needed.update(h for h in versions.column("content_hash").to_pylist() if h is not None)
    return needed


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"
