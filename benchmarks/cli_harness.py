"""What the benchmarks that run the real CLI share: the command, one measured run, the machine, a bucket on moto.

Used by ``benchmarks.growth`` (nights after nights of one warehouse) and ``benchmarks.scale`` (many sources into
one bucket). Nothing here imports the connector.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MB = 1_000_000


def cli() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m assistants_export.pipelines.cli``."""
    script = Path(sys.executable).with_name("assistants-export")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistants_export.pipelines.cli"]


def run_measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``command`` to its end; wall time, and CPU and peak RSS from the kernel's accounting of that process.

    ``os.wait4`` on the one child, so several may run at once from threads, each measuring its own. The rusage
    covers the process and any children it waited for (the CLI runs Dagster in-process and starts none).
    ``started``/``ended`` are ``time.time()`` stamps, for timelines across processes.
    """
    with log.open("wb") as output:
        started_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": process.returncode, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "rss_mb": usage.ru_maxrss * 1024 / MB,
            "started": started_at, "ended": started_at + wall, "pid": process.pid}


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                            cwd=REPO).stdout.strip()
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "commit": commit,
            "load_average_start": os.getloadavg()}


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of a running process's resident set (``VmHWM``), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / MB
    except OSError:
        return None
    return None


class MotoBucket:
    """moto's S3 server in a process of its own on loopback, with one bucket; its objects measured by listing.

    ``env`` points the CLI at it (``AWS_*``) and puts the DuckDB cache in ``work``; ``uri`` is
    ``s3://<bucket>/<prefix>`` and ``database`` where the CLI keeps that warehouse's DuckDB file.
    moto keeps every object in its own memory and answers from one Python process: it is not S3.
    """

    def __init__(self, work: Path, bucket: str = "growth", prefix: str = "wh") -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.bucket = bucket
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = (work / "moto.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.cache = work / "duckdb-cache"
        self.env = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "growth", "AWS_SECRET_ACCESS_KEY": "growth",
                    "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                    "ASSISTANTS_DUCKDB_CACHE": str(self.cache)}
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client().create_bucket(Bucket=bucket)
                break
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.2)
        self.uri = f"s3://{bucket}/{prefix}"
        self.database = self.database_of(prefix)

    def database_of(self, prefix: str) -> Path:
        """Where the CLI keeps the DuckDB file of the warehouse ``s3://<bucket>/<prefix>``."""
        return self.cache / "s3" / self.bucket / prefix / "assistants.duckdb"

    def client(self) -> Any:
        import boto3  # the dev extra's

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="growth", aws_secret_access_key="growth")

    def objects(self, prefix: str = "") -> list[tuple[str, int]]:
        """Every object's key and size (under ``prefix``)."""
        found: list[tuple[str, int]] = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found += [(item["Key"], item["Size"]) for item in page.get("Contents", [])]
        return found

    def sizes(self) -> dict[str, Any]:
        """Bytes in the bucket by kind: data files per table (bytes and count), the Delta logs' entries per table;
        and the local DuckDB cache."""
        parquet = parquet_files = total = files = 0
        datasets: dict[str, int] = {}
        dataset_files: dict[str, int] = {}
        log_files: dict[str, int] = {}
        for key, size in self.objects():
            total += size
            files += 1
            if "/_delta_log/" in key:
                table = key.split("/_delta_log/")[0]
                log_files[table] = log_files.get(table, 0) + 1
            elif key.endswith(".parquet"):
                parquet += size
                parquet_files += 1
                dataset = "/".join(p for p in key.split("/")[:-1] if "=" not in p)
                datasets[dataset] = datasets.get(dataset, 0) + size
                dataset_files[dataset] = dataset_files.get(dataset, 0) + 1
        duckdb = file_size(self.database)
        wal = file_size(self.database.with_name(self.database.name + ".wal"))
        return {"parquet_bytes": parquet, "parquet_files": parquet_files, "duckdb_bytes": duckdb + wal,
                "wal_bytes": wal, "total_bytes": total + duckdb + wal, "files": files,
                "parquet_by_dataset": dict(sorted(datasets.items())),
                "files_by_dataset": dict(sorted(dataset_files.items())),
                "log_files_by_table": dict(sorted(log_files.items()))}

    def peak_rss_mb(self) -> float | None:
        """moto's own high-water mark so far: it holds the whole bucket in memory."""
        return peak_rss_mb(self.process.pid)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
