"""Who is writing ``assistants.duckdb``: the claim a writer holds while it writes, which readers look at.

DuckDB lets no other process open the database while one writes it, and a reader that waits for a writer
could wait seconds. So a writer first takes an exclusive OS lock (``flock``) on ``assistants.duckdb.writer``
beside the database (:func:`claim`), and a reader looks at that lock before it opens the database
(:func:`writer_at_work`): when a writer holds it, the reader reads the same views over the stored files at
once instead of waiting. A reader only looks (a shared lock taken and dropped at once), so readers that come
one after another cannot keep a writer out: once it has claimed the database, it waits only for the readers
already in it. The kernel drops the lock of a process that dies, SIGKILL included.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistants_export.connectors.core.errors import WarehouseLockedError


def writer_claim_path(database: Path) -> Path:
    """Where the writers of ``database`` say they are at work: ``<database>.writer`` beside it."""
    return database.with_name(database.name + ".writer")


_CLAIMS: dict[str, int] = {}
"""The claims this process holds, by path, and how many times each was taken (a writer claims it once)."""
_CLAIMS_GUARD = threading.Lock()


@contextlib.contextmanager
def claim(path: Path, wait: float) -> Iterator[None]:
    """Hold an exclusive OS lock on ``path`` inside the block, waiting up to ``wait`` seconds for other writers
    (:class:`WarehouseLockedError` after that); a claim this process holds already only counts."""
    key = str(path)
    with _CLAIMS_GUARD:
        if key in _CLAIMS:
            _CLAIMS[key] += 1
            fd = -1
        else:
            fd = None
    if fd is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        deadline = time.monotonic() + wait
        pause = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() + pause >= deadline:
                    os.close(fd)
                    raise WarehouseLockedError(
                        f"another process is writing {path.with_suffix('')} (it holds {path.name}): the Parquet "
                        "partitions are stored and the next run loads them into DuckDB") from None
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        with _CLAIMS_GUARD:
            _CLAIMS[key] = 1
    try:
        yield
    finally:
        with _CLAIMS_GUARD:
            _CLAIMS[key] -= 1
            last = _CLAIMS[key] == 0
            if last:
                del _CLAIMS[key]
        if last and fd >= 0:
            os.close(fd)


def writer_at_work(database: Path) -> bool:
    """Whether a writer holds (or waits for) the claim of ``database``: a reader had better not wait for it.

    A claim file that cannot be opened (none yet, or not readable) says nothing: the reader then tries the
    database itself."""
    try:
        fd = os.open(writer_claim_path(database), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # drops the shared lock taken to look: a reader never holds it
    return False
