"""A throwaway PostgreSQL server for tests: a temp data dir, loopback only, stopped on exit.

The server binaries come from the system (Debian's postgresql package, which
the project's setup installs). PostgreSQL refuses to run as root, so when the
tests run as root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[dict[str, object]]:
    """Start a server in a new temp dir; yields hostname, port, username and db_name for dagster-postgres.

    The data dir is not under pytest's ``tmp_path``: its parents are private to
    root, and the server may run as the ``postgres`` user.
    """
    binaries = find_binaries()
    assert binaries is not None, "PostgreSQL is not installed (the project's setup installs it)"
    with tempfile.TemporaryDirectory(prefix="assistants-export-pg-") as workdir:
        data = Path(workdir) / "pgdata"
        data.mkdir()
        if os.geteuid() == 0:
            os.chmod(workdir, 0o755)
            shutil.chown(data, "postgres")
        yield from _serve(binaries, data)


def _serve(binaries: Path, data: Path) -> Iterator[dict[str, object]]:
    port = _free_port()
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                    "--no-sync"]), check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                                    "-l", str(data / "server.log"), "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        _wait_for(port)
        yield {"hostname": "127.0.0.1", "port": port, "username": "postgres", "db_name": "postgres"}
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"]), capture_output=True, timeout=60)


def _wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"PostgreSQL did not listen on 127.0.0.1:{port}")
