"""Time one peer script in the peers' own interpreter: ``PEERS_PYTHON measure.py SCRIPT '{json arguments}'``.

``benchmarks/workers.py`` starts this with ``.venv-bench-peers/bin/python``. The
script's module is imported first (its imports are not timed, as the floor's
httpx and the pipeline's modules are not), then its ``main(**arguments)`` is
timed. Requests are counted by wrapping the HTTP client's ``send`` (httpx for
the SDK, requests for dlt), which the scripts themselves do not know about. The
last line printed is a JSON object like the other workers'.
"""

from __future__ import annotations

import functools
import importlib
import json
import resource
import sys
import time
from typing import Any

REQUESTS = 0
PACKAGES = {"sdk_script": ("openai", "pandas", "pyarrow", "duckdb"), "dlt_pipeline": ("dlt", "duckdb")}
"""The versions each peer reports with its results."""


def _count(cls: Any) -> None:
    """Count every call of ``cls.send`` (sync or async) in :data:`REQUESTS`."""
    send = cls.send

    if getattr(send, "__code__", None) is not None and send.__code__.co_flags & 0x80:  # a coroutine function

        @functools.wraps(send)
        async def counted_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            global REQUESTS
            REQUESTS += 1
            return await send(self, *args, **kwargs)

        cls.send = counted_async
    else:

        @functools.wraps(send)
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            global REQUESTS
            REQUESTS += 1
            return send(self, *args, **kwargs)

        cls.send = counted


def _count_requests() -> None:
    for module, name in (("httpx", "AsyncClient"), ("httpx2", "AsyncClient"), ("requests", "Session")):
        try:
            _count(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue


def _usage() -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS in MB of this process and any it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return cpu, max(own.ru_maxrss, children.ru_maxrss) / 1024


def main(argv: list[str]) -> int:
    script, arguments = argv[0], json.loads(argv[1])
    peer = importlib.import_module(script)
    _count_requests()
    started = time.perf_counter()
    loaded = peer.main(**arguments)
    wall = time.perf_counter() - started
    cpu, rss = _usage()
    print(json.dumps({"wall_s": wall, "requests": REQUESTS, "assistants": loaded, "rss_mb": rss, "cpu_s": cpu,
                      "versions": _versions(PACKAGES.get(script, ()))}), flush=True)
    return 0


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
