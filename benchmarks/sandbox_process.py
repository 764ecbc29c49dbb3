"""The sandbox API in its own process, so it does not share the client's GIL.

Measuring the client against a server in the same interpreter would charge the
server's Python work to the client; ``python -m assistants_export.sandbox`` runs on the other core.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

API_KEY = "sk-bench-not-a-secret-0000"
"""The sandbox's only accepted key; a made-up value that protects nothing."""


@dataclass(frozen=True)
class Sandbox:
    base_url: str
    n: int
    latency_ms: float
    max_concurrent: int | None


@contextmanager
def sandbox(n: int, *, latency_ms: float = 0.0, max_concurrent: int | None = None,
            extra: Sequence[str] = ()) -> Iterator[Sandbox]:
    """Start ``python -m assistants_export.sandbox --generated n [extra...]`` and stop it on exit; yields where it
    listens."""
    command = [sys.executable, "-m", "assistants_export.sandbox", "--generated", str(n),
               "--latency-ms", str(latency_ms),
               "--api-key", API_KEY, *extra]
    if max_concurrent is not None:
        command += ["--max-concurrent", str(max_concurrent)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("base_url="):
            raise RuntimeError(f"the sandbox did not start (printed {line!r})")
        yield Sandbox(line.split("=", 1)[1], n, latency_ms, max_concurrent)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
