"""One writer per source: the lock a run holds while it writes a source's tables.

A run of a source (fetch and its commit, flatten, load, history) holds that source's **writer lock** from its
first write to its last. A second run of the same source waits for it, up to a bounded time
(:func:`writer_wait`: ``--writer-wait``, ``ASSISTANTS_WRITER_WAIT``, the ``warehouse`` resource's
``writer_wait``), and then gives up with :class:`SourceBusyError`, one line naming the run that holds the lock
(its run ID, start time, host and process), having written nothing. Runs of different sources hold different
locks and run side by side.

* **A folder** (:class:`_FolderLock`): an OS file lock (``flock``) on ``<source>/.writer.lock``. The kernel
  drops it when the process ends in any way, SIGKILL included, so a dead run never keeps the source. The
  holder's description is written into the file once the lock is held, for the next run's message.
* **A bucket** (:class:`_BucketLease`): a lease, the one row of a small Delta table ``<source>/delta/
  writer_lease``. It is taken, renewed and released by Delta commits that replace that row only if nobody changed it
  since it was read (Delta's conditional create of the next log entry, which S3, GCS and Azure all honour), so of two
  runs taking it at once exactly one wins. It lasts
  :data:`~assistants_export.connectors.core.settings.WRITER_LEASE_SECONDS` and a thread of the holder renews it every
  :data:`~assistants_export.connectors.core.settings.WRITER_LEASE_RENEW` seconds; a holder that died stops renewing, and
  the lease can be taken once it has expired, or at once when the holder was a process of this machine that no longer
  exists. A holder that could not renew in time (its lease was taken over) is told so before its next commit
  (:func:`check_not_lost`). ``docs/object-storage.md`` says why a lease and not a lock.

The lock belongs to the process: taking a lock this process already holds (the CLI holds it for a whole run,
and each step of the run takes it again) only counts. So it keeps runs (processes) apart, not threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import math
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from assistants_export.connectors.core import interrupts, settings
from assistants_export.connectors.core.errors import (
    ConfigError,
    SourceBusyError,
    WarehouseUnreachableError,
    WarehouseWriteError,
)

from .location import WRITE_REFUSALS, WarehouseLocation
from .sources import source_location

log = logging.getLogger(__name__)

_POLL = 0.25
"""Seconds between two attempts at a lock another run holds (the first retries come sooner)."""


def writer_wait(value: float | str | None = None, environ: Mapping[str, str] | None = None) -> float:
    """Seconds a run waits for another run of its source: ``value`` if given, else ``$ASSISTANTS_WRITER_WAIT``,
    else :data:`~assistants_export.connectors.core.settings.WRITER_WAIT`. A negative or unreadable value is one line."""
    env = os.environ if environ is None else environ
    where = "writer_wait"
    if value is None:
        raw = env.get(settings.WRITER_WAIT_ENV, "").strip()
        if not raw:
            return settings.WRITER_WAIT
        value, where = raw, f"${settings.WRITER_WAIT_ENV}"
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number of seconds (got {value!r})") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"{where} must be 0 or a positive number of seconds (got {value!r})")
    return seconds


@dataclass(frozen=True)
class Holder:
    """Who holds a source's writer lock: what the next run's message names."""

    run_id: str
    started_at: str
    host: str
    pid: int

    @classmethod
    def this_process(cls, run_id: str | None) -> Holder:
        return cls(run_id or f"pid-{os.getpid()}-{uuid.uuid4().hex[:8]}",
                   dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), socket.gethostname(), os.getpid())

    @classmethod
    def from_json(cls, text: str | bytes) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(str(data["run_id"]), str(data["started_at"]), str(data["host"]), int(data["pid"]))
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def describe(self) -> str:
        return f"run {self.run_id}, started {self.started_at} on host {self.host}, pid {self.pid}"


class _Lock(Protocol):
    where: str

    def try_acquire(self, holder: Holder) -> bool: ...

    def holder(self) -> Holder | None: ...

    def release(self) -> None: ...

    def lost(self) -> bool: ...


@dataclass
class _Held:
    lock: _Lock
    holder: Holder
    count: int


_HELD: dict[str, _Held] = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def writer_lock(warehouse: str | os.PathLike[str] | WarehouseLocation, source_name: str = settings.DEFAULT_SOURCE, *,
                run_id: str | None = None, wait: float | None = None) -> Iterator[Holder]:
    """Hold ``source_name``'s writer lock inside the block; yields who holds it (this run).

    Waits up to ``wait`` seconds (default :func:`writer_wait`) for another run of the source to end, then
    raises :class:`SourceBusyError` naming that run. Taking a lock this process already holds only counts.
    """
    key, lock = _lock_for(warehouse, source_name)
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:
            held.count += 1
    if held is not None:
        try:
            yield held.holder
        finally:
            with _HELD_GUARD:
                held.count -= 1
        return
    holder = Holder.this_process(run_id)
    seconds = writer_wait(wait)
    _acquire(lock, holder, seconds, source_name)
    held = _Held(lock, holder, 1)
    with _HELD_GUARD:
        _HELD[key] = held
    try:
        yield holder
    finally:
        with _HELD_GUARD:
            held.count -= 1
            last = held.count == 0
            if last:
                del _HELD[key]
        if last:
            lock.release()


def check_not_lost(root: str) -> None:
    """Raise :class:`SourceBusyError` if this process took the writer lease of the source at ``root`` and lost it
    (it could not renew it in time and another run took the source over); nothing more may be committed then."""
    with _HELD_GUARD:
        held = _HELD.get(root)
    if held is not None and held.lock.lost():
        raise SourceBusyError(
            f"this run lost the writer lease of {held.lock.where} (it could not renew it within "
            f"{settings.WRITER_LEASE_SECONDS:g} seconds) and committed nothing more; another run may be "
            "writing it now: run it again once that one has ended")


def _lock_for(warehouse: str | os.PathLike[str] | WarehouseLocation, source_name: str) -> tuple[str, _Lock]:
    """The key of the source's lock in this process (its root, as a resolved path or a URI), and the lock."""
    location = source_location(warehouse, source_name)
    if location.is_local:
        return location.root, _FolderLock(Path(location.root))
    return location.uri, _BucketLease(location)


def _acquire(lock: _Lock, holder: Holder, wait: float, source_name: str) -> None:
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        if lock.try_acquire(holder):
            return
        interrupts.check()  # Ctrl-C while waiting for the other run: stop waiting (nothing was written)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(pause, left))
        pause = min(pause * 2, _POLL)
    other = lock.holder()
    who = other.describe() if other is not None else "a run whose description could not be read"
    named = "" if source_name == settings.DEFAULT_SOURCE else f"source {source_name} of "
    raise SourceBusyError(
        f"another run is writing {named}the warehouse at {lock.where} ({who}); waited {wait:g} s "
        f"(--writer-wait, ${settings.WRITER_WAIT_ENV}) and wrote nothing: run this again once it has ended")


# --- a folder: flock -----------------------------------------------------------------------------------------------


class _FolderLock:
    """``flock`` on ``<source>/.writer.lock``; the holder's description is the file's content.

    The lock file is the one file a run writes before it knows it will store anything, so the run that made the
    warehouse's folder (or the source's) takes them away again when it releases the lock with nothing else stored
    there: a first snapshot that fails leaves no empty warehouse behind. It removes them while it still holds the
    lock, and a run that was waiting on the removed file sees, once it has the lock, that the path no longer names
    the file it locked, and starts again on a new one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / settings.WRITER_LOCK_FILE
        self.where = os.path.abspath(root)
        self._fd = -1
        self._created: list[Path] = []

    def try_acquire(self, holder: Holder) -> bool:
        missing = [folder for folder in (*reversed(self.root.parents), self.root) if not folder.exists()]
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise _unwritable(self.where, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if not _names(self.path, fd):  # its holder removed it before letting go: lock the new one
            os.close(fd)
            return self.try_acquire(holder)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.to_json().encode() + b"\n", 0)
        except OSError as exc:
            os.close(fd)
            raise _unwritable(self.where, exc) from None
        self._fd = fd
        self._created = missing
        return True

    def holder(self) -> Holder | None:
        for _ in range(5):  # the holder writes its description right after it took the lock
            try:
                found = Holder.from_json(self.path.read_bytes())
            except OSError:
                return None
            if found is not None:
                return found
            time.sleep(0.05)
        return None

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            if self._created and not _holds_files(self._created[0], besides=self.path):
                with contextlib.suppress(OSError):
                    self.path.unlink()
                    shutil.rmtree(self._created[0])
            os.close(self._fd)  # drops the flock
            self._fd = -1
            self._created = []

    def lost(self) -> bool:
        return False  # the kernel keeps an flock for as long as the process lives


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _holds_files(folder: Path, *, besides: Path) -> bool:
    """Whether ``folder`` holds any file (at any depth) other than ``besides``."""
    return any(Path(where, name) != besides for where, _, names in os.walk(folder) for name in names)


def _unwritable(where: str, exc: OSError) -> WarehouseWriteError:
    hint = WRITE_REFUSALS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return WarehouseWriteError(f"cannot write the warehouse at {where}: {hint} (nothing was written)")


# --- a bucket: a lease in a one-row Delta table --------------------------------------------------------------------


_SLOT = "writer"
_PREDICATE = f"slot = '{_SLOT}'"


class _BucketLease:
    """The lease row of ``<source>/delta/writer_lease``: taken, renewed and released by conditional Delta commits.

    Every commit replaces the row ``slot = 'writer'`` from the version last read, so it fails if any other
    commit came in between (Delta's conflict check: a concurrent commit added data this one's predicate read).
    """

    def __init__(self, location: WarehouseLocation) -> None:
        self.location = location
        self.where = location.uri
        self.uri = location.child("delta", settings.WRITER_LEASE_TABLE)
        self._table: Any = None
        self._holder: Holder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False
        self._guard = threading.Lock()

    # The imports inside the methods below load deltalake (through .objectstore) and pyarrow only when a bucket's
    # lease is used: lazy loading of heavy modules, which a local warehouse never needs.

    def _options(self) -> dict[str, str]:
        from .objectstore import StorageOptions

        return StorageOptions.from_environment(self.location).as_dict()

    def _schema(self) -> Any:
        import pyarrow as pa

        return pa.schema([pa.field("slot", pa.string()), pa.field("run_id", pa.string()),
                          pa.field("started_at", pa.string()), pa.field("host", pa.string()),
                          pa.field("pid", pa.int64()), pa.field("expires_at", pa.timestamp("us", tz="UTC")),
                          pa.field("released", pa.bool_())])

    def _open(self) -> Any:
        """The lease table at its latest version, created (empty) if it does not exist."""
        from deltalake import DeltaTable
        from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

        from .objectstore import TABLE_CONFIGURATION, unreachable_message

        options = self._options()
        for _ in range(2):
            try:
                return DeltaTable(self.uri, storage_options=options)
            except TableNotFoundError:
                with contextlib.suppress(CommitFailedError):  # another run created it in the same moment
                    DeltaTable.create(self.uri, self._schema(), mode="ignore", configuration=TABLE_CONFIGURATION,
                                      storage_options=options)
            except (OSError, DeltaError) as exc:
                raise WarehouseUnreachableError(unreachable_message(self.location, exc)) from None
        return DeltaTable(self.uri, storage_options=options)

    def _row(self, table: Any) -> dict[str, Any] | None:
        rows = table.to_pyarrow_table().to_pylist()
        return rows[0] if rows else None

    def _commit(self, table: Any, holder: Holder, *, released: bool) -> bool:
        """Replace the lease row from ``table``'s version; False if another commit came first."""
        import pyarrow as pa
        from deltalake import write_deltalake
        from deltalake.exceptions import CommitFailedError

        from .objectstore import TABLE_CONFIGURATION

        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.WRITER_LEASE_SECONDS)
        row = {"slot": _SLOT, **asdict(holder), "expires_at": expires, "released": released}
        try:
            write_deltalake(table, pa.Table.from_pylist([row], schema=self._schema()), mode="overwrite",
                            predicate=_PREDICATE, configuration=TABLE_CONFIGURATION,
                            storage_options=self._options())
        except CommitFailedError:
            return False
        except OSError as exc:
            raise WarehouseWriteError(f"{self.uri}: cannot write the writer lease ({exc})") from None
        return True

    def try_acquire(self, holder: Holder) -> bool:
        table = self._open()
        row = self._row(table)
        if row is not None and not row["released"]:
            other = _row_holder(row)
            if row["expires_at"] > dt.datetime.now(dt.UTC) and not _died_here(other):
                return False
            why = "ended without releasing it" if _died_here(other) else \
                f"let it expire at {row['expires_at'].isoformat(timespec='seconds')}"
            log.warning("taking over the writer lease of %s: %s %s", self.where, other.describe(), why)
        if not self._commit(table, holder, released=False):
            return False
        self._table, self._holder = table, holder  # the table object is now at this run's commit
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name="writer-lease", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(settings.WRITER_LEASE_RENEW):
            with self._guard:
                if self._stop.is_set():
                    return
                assert self._holder is not None
                try:
                    renewed = self._commit(self._table, self._holder, released=False)
                except Exception as exc:  # a failed request: try again at the next tick, the lease still runs
                    log.warning("could not renew the writer lease of %s: %s", self.where, exc)
                    continue
                if not renewed:
                    self._lost = True
                    log.error("lost the writer lease of %s: another run took it over", self.where)
                    return

    def holder(self) -> Holder | None:
        row = self._row(self._open())
        return None if row is None else _row_holder(row)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=settings.WRITER_LEASE_RENEW)  # a renewal in flight ends first
            self._thread = None
        with self._guard:
            if self._table is not None and self._holder is not None and not self._lost:
                try:
                    self._commit(self._table, self._holder, released=True)
                except Exception as exc:  # it expires by itself
                    log.warning("could not release the writer lease of %s (it expires by itself): %s",
                                self.where, exc)
            self._table = None

    def lost(self) -> bool:
        return self._lost


def _died_here(holder: Holder) -> bool:
    """Whether ``holder`` was a process of this machine that no longer exists (killed, say): its lease need not be
    waited out. A process of another machine (another container) is known dead only when its lease expires."""
    if holder.host != socket.gethostname() or holder.pid == os.getpid():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's
        return False
    return False


def _row_holder(row: Mapping[str, Any]) -> Holder:
    return Holder(str(row["run_id"]), str(row["started_at"]), str(row["host"]), int(row["pid"]))
