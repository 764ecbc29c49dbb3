"""Where a warehouse is: a local folder, or an object store named by a URI.

Free of any storage library, so every command can check its ``--warehouse`` before doing anything; the
object-store commit itself is in :mod:`assistants_export.connectors.warehouse.objectstore`.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from assistants_export.connectors.core import settings
from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConfigError

OBJECT_STORE_SCHEMES = ("s3", "gs", "az")
"""The object stores a warehouse URI may name (``<scheme>://<bucket or container>/<prefix>``)."""


@dataclass(frozen=True)
class WarehouseLocation:
    """Where a warehouse lives: ``scheme`` is ``file`` (``root`` is an absolute path) or an object store."""

    scheme: str
    root: str
    """The local folder, or ``<bucket>/<prefix>`` without a trailing slash."""

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def uri(self) -> str:
        return self.root if self.is_local else f"{self.scheme}://{self.root}"

    def child(self, *parts: str) -> str:
        """The URI (or local path) of something inside the warehouse."""
        return "/".join([self.uri.rstrip("/"), *parts])

    def __str__(self) -> str:
        return self.uri


def parse_warehouse_uri(text: str | os.PathLike[str] | WarehouseLocation) -> WarehouseLocation:
    """A local path (relative, ``~``, or ``file://``) or ``s3://``/``gs://``/``az://`` bucket and prefix.

    Anything else is a :class:`ConfigError` whose one line says what is accepted. A location resolved already is
    returned as it is, so a caller that resolved it once passes it down instead of the text.
    """
    if isinstance(text, WarehouseLocation):
        return text
    raw = os.fspath(text).strip()
    if not raw:
        raise ConfigError("the warehouse location is empty: give a folder or s3://bucket/prefix")
    if "://" not in raw:
        return WarehouseLocation("file", str(Path(raw).expanduser().resolve()))
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"warehouse {raw!r}: a file:// URI must name a local path (file:///path)")
        return WarehouseLocation("file", str(Path(parts.path).resolve()))
    if scheme not in OBJECT_STORE_SCHEMES:
        raise ConfigError(f"warehouse {without_userinfo(raw)!r}: unsupported scheme {scheme!r}; give a folder or "
                          f"{', '.join(s + '://bucket/prefix' for s in OBJECT_STORE_SCHEMES)}")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"warehouse {without_userinfo(raw)!r}: give only {scheme}://bucket/prefix; credentials "
                          "come from the environment, never from the URI")
    bucket = parts.netloc
    if not bucket:
        raise ConfigError(f"warehouse {raw!r}: no bucket; give {scheme}://bucket/prefix")
    prefix = "/".join(p for p in parts.path.split("/") if p)
    if any(p in (".", "..") for p in prefix.split("/")):
        raise ConfigError(f"warehouse {raw!r}: the prefix may not contain '.' or '..'")
    return WarehouseLocation(scheme, f"{bucket}/{prefix}" if prefix else bucket)


def without_userinfo(raw: str) -> str:
    """``raw`` with any ``user:password@`` removed, so an error never repeats a credential given in a URI."""
    parts = urlsplit(raw)
    if "@" not in parts.netloc:
        return raw
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def local_root(warehouse: str | os.PathLike[str]) -> Path:
    """The warehouse folder; a ``file://`` URI is taken as its path, any other URI is refused in one line.

    For what only a local folder can do (the folder's own locks and renames); without this,
    ``s3://bucket/prefix`` would quietly become a local folder named ``s3:``.
    """
    text = os.fspath(warehouse)
    scheme, found, rest = text.partition("://")
    if not found:
        return Path(text)
    if scheme.lower() == "file" and rest.startswith("/"):
        return Path(rest)
    raise ConfigError(f"warehouse {without_userinfo(text)!r} is not a local folder")


def duckdb_path(warehouse: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Path:
    """Where the warehouse's ``assistants.duckdb`` is: in the folder, or for an object store in a local cache.

    The cache is ``$ASSISTANTS_DUCKDB_CACHE`` (default ``~/.cache/assistants-export``) followed by the scheme,
    bucket and prefix, so two warehouses never share a database. It holds nothing the lake does not:
    ``assistants-export rebuild-duckdb`` makes it again from the Delta tables.
    """
    text = os.fspath(warehouse)
    if "://" not in text or text.lower().startswith("file://"):
        return local_root(text) / settings.DUCKDB_FILENAME
    location = parse_warehouse_uri(text)
    env = os.environ if environ is None else environ
    cache = Path(registry.DUCKDB_CACHE.text(env)).expanduser()
    return cache / location.scheme / location.root / settings.DUCKDB_FILENAME


WRITE_REFUSALS = {
    errno.EACCES: "permission denied: run as a user who may write it, or choose another --warehouse",
    errno.EPERM: "permission denied: run as a user who may write it, or choose another --warehouse",
    errno.EROFS: "the file system is read-only: choose a writable --warehouse",
    errno.ENOSPC: "the disk is full: free space (or move the warehouse) and re-run the date",
    errno.EDQUOT: "the disk quota is exceeded: free space and re-run the date",
    errno.EIO: "the disk reported an input/output error: check it (dmesg, SMART) and re-run the date",
}
"""What to do when the system refuses to write a local warehouse, by the refusal's ``errno``."""


VIRTUAL_FILE_SYSTEMS = ("/proc", "/sys")
"""The kernel's views of the system: folders that are not on any disk, where nothing of ours can be written."""


def file_kind(mode: int) -> str:
    """What a file that is not a regular file or a folder is, in words ("a device", "a FIFO"...)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_local_folder(path: str | os.PathLike[str], name: str, fix: str) -> None:
    """Refuse, in one line, a local path that cannot be (or become) a folder of ours.

    That is a path in ``/proc`` or ``/sys``; an existing file that is not a folder (a regular file, a device such
    as ``/dev/null``, a FIFO, a socket), or a path below one. A folder that does not exist yet is fine (it is
    created when something is written). ``name`` says what the path is (``warehouse``, ``DAGSTER_HOME``), ``fix``
    what to give instead. Anything else the system refuses (permissions, a full disk) is said when it happens.
    """
    text = os.fspath(path)
    real = Path(os.path.realpath(text))
    for system in VIRTUAL_FILE_SYSTEMS:
        if real == Path(system) or Path(system) in real.parents:
            raise ConfigError(f"{name} {text}: it is in {system}, the kernel's view of the system, not a folder on "
                              f"a disk: {fix}")
    probe = real
    while True:
        try:
            mode = probe.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            if probe.parent == probe:
                return
            probe = probe.parent
            continue
        except OSError as exc:
            raise ConfigError(f"{name} {text}: {exc.strerror or exc}: {fix}") from None
        if stat.S_ISDIR(mode):
            return
        what = "it is" if probe == real else f"{probe} is"
        raise ConfigError(f"{name} {text}: {what} {file_kind(mode)}, not a folder: {fix}")


def warehouse_root(path: str | None = None) -> str:
    """The warehouse ``path`` names (default ``$ASSISTANTS_WAREHOUSE``, else ``./data``): the folder as written
    (``./data`` stays ``./data``; ``file://`` becomes its path), or the URI.

    A location that cannot be a warehouse fails here, in one line (:class:`ConfigError`), before any request.
    """
    root = path or settings.default_warehouse()
    location = parse_warehouse_uri(root)
    if location.is_local:
        folder = str(local_root(root)) if "://" in root else root
        check_local_folder(folder, "warehouse", "give a folder (it is created if missing) or s3://bucket/prefix "
                           f"(--warehouse, ${settings.DEFAULT_WAREHOUSE_ENV})")
        return folder
    cache = duckdb_path(location.uri).parent
    check_local_folder(cache, f"the DuckDB cache of {location.uri},",
                       f"set {settings.DUCKDB_CACHE_ENV} to a folder (created if missing)")
    return location.uri
