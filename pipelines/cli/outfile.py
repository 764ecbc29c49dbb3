"""The one way a command writes what the user asked for: standard output, or a regular file they name.

Every command with ``-o``/``--output`` (``query``, ``migrate``, and any later one) goes through
:class:`OutputTarget`, so they all keep the same promises:

* ``-`` (or no option) is standard output; anything else must be a **regular file** or a name that does not
  exist yet, in a folder that does. A symbolic link, a FIFO, a device (``/dev/null``, ``/dev/full``), a folder
  or a socket is refused in one line before any work, and so is a path inside the warehouse (a result written
  over ``assistants.duckdb`` or a partition would destroy it). The result is renamed over the target, so
  writing "through" any of those would replace the link, FIFO or device itself instead.
* A file is written **atomically**: into a temporary file in the same folder (created exclusively, with the
  target's permission bits or the usual ones), fsync'ed, renamed over the target, and the folder fsync'ed. A
  failure part-way leaves the target as it was and no temporary file behind.
* Write errors end in **one line** naming where and what to fix: a full disk (``ENOSPC``, ``/dev/full`` as
  standard output), a quota, an I/O error. A reader that goes away (``| head``: ``EPIPE``) ends the command
  quietly with status 0, as Unix tools do, and the interpreter's last flush is pointed at the null device so it
  cannot print a traceback.
* Text is UTF-8 whatever the locale (CSV, JSON and JSON Lines are read by programs).

Errors of the write itself are told from errors of the work (a query failing mid-stream, say) by the stream
the command writes to: only its own writes raise :class:`OutputError` or :class:`ReaderGone`.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from assistants_export.connectors.warehouse.location import file_kind

from .output import silence_stdout

STDOUT = "-"

_HINTS = {
    errno.ENOSPC: "the disk is full: free space or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free space or write elsewhere",
    errno.EIO: "the device reported an input/output error: check the disk (dmesg) or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EACCES: "permission denied: write to a folder you may write",
    errno.EPERM: "permission denied: write to a folder you may write",
    errno.EFBIG: "the file is too large for this file system: write elsewhere",
}


class OutputError(click.ClickException):
    """Writing the user's output failed: one line naming where, the system's reason and what to do."""

    def __init__(self, where: str, exc: OSError) -> None:
        reason = exc.strerror or str(exc) or type(exc).__name__
        hint = _HINTS.get(exc.errno or 0)
        super().__init__(f"could not write {where}: {reason}" + (f" ({hint})" if hint else ""))


class ReaderGone(Exception):
    """The reader of standard output went away (a closed pipe): nothing more can be written, nothing is wrong."""


@dataclass(frozen=True)
class OutputTarget:
    """Where a command's output goes: ``path`` ``None`` is standard output."""

    path: Path | None

    @classmethod
    def parse(cls, value: str | os.PathLike[str] | None, *, keep_out: Sequence[str | os.PathLike[str]] = ()
              ) -> OutputTarget:
        """The target ``value`` names (``None`` or ``-``: standard output), checked now, before any work.

        ``keep_out``: folders the output must not be written into (the warehouse). A path that is not a regular
        file or a new name in an existing folder is refused with a :class:`click.ClickException` (one line).
        """
        if value is None or os.fspath(value) == STDOUT:
            return cls(None)
        path = Path(value)
        _check_writable_target(path)
        real = Path(os.path.realpath(path))
        for folder in keep_out:
            inside = Path(os.path.realpath(folder))
            if real == inside or inside in real.parents:
                raise click.ClickException(f"refusing to write {path}: it is inside the warehouse ({folder}), "
                                           "whose files only the pipeline writes; write the output elsewhere")
        return cls(path)

    @property
    def is_stdout(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        return "standard output" if self.path is None else str(self.path)

    def open(self, *, binary: bool = False) -> AbstractContextManager[IO[Any]]:
        """A context manager giving the stream to write (UTF-8 text, or bytes with ``binary``).

        On a clean exit the output is complete: flushed, and a file fsync'ed and renamed into place. An
        exception leaves a file target as it was. Write errors become :class:`OutputError`; a closed pipe on
        standard output ends the block quietly (the rest of the block is skipped).
        """
        if self.path is None:
            return _stdout(binary)
        return _file(self.path, binary)


def _check_writable_target(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        folder = path.parent
        if not folder.is_dir():
            raise click.ClickException(f"cannot write {path}: the folder {folder} does not exist") from None
        return
    except NotADirectoryError:
        raise click.ClickException(f"cannot write {path}: {path.parent} is not a folder") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise click.ClickException(f"refusing to write {path}: it is {file_kind(mode)}; give the path of a "
                                   "regular file (it is replaced whole), or - for standard output")


class _Guarded(io.RawIOBase):
    """A raw stream whose write errors are the user's one line (or :class:`ReaderGone`), never a traceback.

    After the first error, or once closed, it swallows whatever is still buffered above it, so the buffers'
    own last flush (when they are collected) can neither fail again nor write to a file descriptor reused since.
    """

    def __init__(self, write: Callable[[Any], int | None], where: str, *,
                 on_error: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._write = write
        self._where = where
        self._on_error = on_error
        self._failed = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        if self._failed or self.closed:
            return size
        try:
            written = self._write(data)
        except OSError as exc:
            raise self.error(exc) from None
        return size if written is None else written

    def error(self, exc: OSError) -> Exception:
        """The exception a failed write or flush of this stream becomes (it writes nothing more)."""
        self._failed = True
        if self._on_error is not None:
            self._on_error()
        if exc.errno == errno.EPIPE:
            return ReaderGone()
        return OutputError(self._where, exc)


def _layers(raw: _Guarded, binary: bool) -> IO[Any]:
    buffered = io.BufferedWriter(raw)
    return buffered if binary else io.TextIOWrapper(buffered, encoding="utf-8", newline="")


@contextmanager
def _stdout(binary: bool) -> Iterator[IO[Any]]:
    """Standard output as UTF-8 text or bytes; everything is flushed before the block counts as done."""
    target = sys.stdout.buffer
    raw = _Guarded(target.write, "standard output", on_error=silence_stdout)
    stream = _layers(raw, binary)
    try:
        _flush(raw, sys.stdout)  # whatever was printed before goes first
        yield stream
        stream.flush()
        _flush(raw, target)
    except ReaderGone:
        return  # the reader went away (`| head`): stop quietly, as other tools do
    finally:
        raw.close()


def _flush(raw: _Guarded, stream: IO[Any]) -> None:
    try:
        stream.flush()
    except OSError as exc:
        raise raw.error(exc) from None


@contextmanager
def _file(path: Path, binary: bool) -> Iterator[IO[Any]]:
    """A temporary file next to ``path``, renamed over it once written whole and fsync'ed."""
    where = str(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = _guarded(where, os.open, temporary, flags, 0o666)  # the umask applies, as for any new file
    raw = _Guarded(lambda data: os.write(fd, data), where)
    try:
        try:
            existing = path.lstat()
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISREG(existing.st_mode):  # a replaced file keeps its permissions
                os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)
        stream = _layers(raw, binary)
        yield stream
        stream.flush()
        _guarded(where, os.fsync, fd)
        _check_writable_target(path)  # still a regular file or nothing: never rename over what appeared since
        _guarded(where, os.replace, temporary, path)
        _fsync_folder(path.parent)
    finally:
        raw.close()
        with suppress(OSError):
            os.close(fd)
        with suppress(OSError):
            temporary.unlink()


def _guarded(where: str, call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except OSError as exc:
        raise OutputError(where, exc) from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable; a file system that cannot fsync a folder has nothing more to do."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
