"""``python -m benchmarks.timed_cli ARGS``: ``assistants-export ARGS``, with every DuckDB connection timed.

``benchmarks.scale`` starts each snapshot this way instead of through the console script, to see how long each
run waited for ``assistants.duckdb`` (one writer at a time: a run that finds the file locked sleeps and tries
again, up to ``DUCKDB_LOCK_WAIT`` seconds) and how long it held it. It is the CLI's own entry point
(``pipelines.cli.main``) in a process of its own, as the console script is; the only difference is a wrapper
around ``DuckDBStore.connect`` that appends one JSON line per connection to ``$SCALE_DUCKDB_LOG``: when it was
asked for, when it was granted, when it was closed (``time.time()``), read-only or not, how many attempts
found the file locked, and the process's resident set and its high-water mark when it asked and when it closed
(so the peak before the DuckDB load, through it and through the history step can be told apart). If the
connector's code has moved (no ``DuckDBStore.connect``), the CLI runs unwrapped and the log stays empty: the
scale report then says it has no lock figures, rather than guessing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

_LOCK = threading.Lock()


def _memory() -> dict[str, int]:
    """This process's resident set now and its high-water mark so far (``VmRSS``, ``VmHWM``), KiB."""
    found: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return found


def _append(path: str, record: dict[str, Any]) -> None:
    with _LOCK, open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


class _Timed:
    """The connection as the caller uses it (``with store.connect() as con``, or plain), noting when it is closed."""

    def __init__(self, connection: Any, record: dict[str, Any], path: str) -> None:
        self._connection = connection
        self._record = record
        self._path = path

    def _closed(self) -> None:
        if "closed" not in self._record:
            self._record["closed"] = time.time()
            self._record["memory_closed"] = _memory()
            _append(self._path, self._record)

    def __enter__(self) -> Any:
        return self._connection.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._connection.__exit__(*exc)
        finally:
            self._closed()

    def close(self) -> None:
        try:
            self._connection.close()
        finally:
            self._closed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _instrument(path: str) -> bool:
    try:
        import duckdb

        from assistants_export.connectors.warehouse import duckdb_store
    except ImportError:
        return False
    store_class = getattr(duckdb_store, "DuckDBStore", None)
    original = getattr(store_class, "connect", None)
    if store_class is None or original is None:
        return False
    locked = threading.local()

    def counting(function: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except duckdb.IOException as error:
                if "lock" in str(error).lower():
                    locked.count = getattr(locked, "count", 0) + 1
                raise

        return counted

    def connect(self: Any, *args: Any, **kwargs: Any) -> Any:
        read_only = bool(kwargs.get("read_only", args[0] if args else False))
        locked.count = 0
        memory = _memory()
        asked = time.time()
        try:
            connection = original(self, *args, **kwargs)
        except BaseException as error:
            _append(path, {"pid": os.getpid(), "read_only": read_only, "asked": asked, "failed": time.time(),
                           "locked_attempts": locked.count, "error": type(error).__name__})
            raise
        record = {"pid": os.getpid(), "read_only": read_only, "asked": asked, "granted": time.time(),
                  "locked_attempts": locked.count, "database": str(getattr(self, "path", "")),
                  "memory_asked": memory}
        return _Timed(connection, record, path)

    # Count the attempts that met the lock: a read-only open is duckdb.connect, a write one _open_for_writing.
    duckdb.connect = counting(duckdb.connect)
    if hasattr(store_class, "_open_for_writing"):
        store_class._open_for_writing = counting(store_class._open_for_writing)
    store_class.connect = connect
    return True


def main() -> None:
    path = os.environ.get("SCALE_DUCKDB_LOG")
    if path:
        _instrument(path)
    from assistants_export.pipelines.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
