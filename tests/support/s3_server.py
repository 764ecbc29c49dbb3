"""An S3-compatible server on loopback for tests: moto's standalone server, in this process, on a free port.

``moto_s3`` (a fixture; import it into a test module or a conftest) starts one server per test module,
gives each test a fresh bucket and points the standard ``AWS_*`` variables at it (via monkeypatch, so they
are gone after the test). The server stops by itself when the module's tests are done.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

ACCESS_KEY = "AKIAMOTOTESTKEY00001"
SECRET_KEY = "moto-secret-Zq8Xv2Lm4Rt7Yp1Wn6Kd"
"""moto accepts any key; these are distinctive so a test can check that neither is ever shown."""
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str
    bucket: str

    def uri(self, prefix: str = "warehouse") -> str:
        return f"s3://{self.bucket}/{prefix}"

    def client(self):
        return _client(self.endpoint)

    def copy(self, source: str, target: str) -> None:
        """Copy every object under the ``source`` prefix to the ``target`` prefix (a warehouse, say)."""
        client = self.client()
        for key in self.keys(source.rstrip("/") + "/"):
            client.copy_object(Bucket=self.bucket, Key=target.rstrip("/") + key[len(source.rstrip("/")):],
                               CopySource={"Bucket": self.bucket, "Key": key})

    def keys(self, prefix: str = "") -> list[str]:
        """Every key in the bucket under ``prefix``, sorted."""
        found: list[str] = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)


@functools.cache
def _client(endpoint: str):
    """One boto3 client per server (making one loads botocore's models: a few tenths of a second)."""
    import boto3  # a test dependency only

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's S3 server on 127.0.0.1 in a process of its own until the block ends; yields its endpoint URL.

    Its own process, not a thread of the tests': some of deltalake's calls keep the GIL while they wait for
    an answer, and a server in the same interpreter could then never give it (the request timed out after
    180 s). The server also ends by itself when the process that started it is gone (``_serve``).
    """
    port = _free_port()
    process = subprocess.Popen([sys.executable, __file__, str(port), str(os.getpid())],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's S3 server did not start on port {port}") from None
                time.sleep(0.05)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(port: int, parent: int) -> None:
    """The server process: moto's server on ``port`` until it is stopped or ``parent`` has gone."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        while os.getppid() == parent:
            time.sleep(0.5)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def _moto_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto_s3(_moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket on the module's moto server, with ``AWS_*`` pointing at it for this test."""
    return new_bucket(_moto_endpoint, monkeypatch)


def new_bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket on the server at ``endpoint``, with ``AWS_*`` pointing at it until ``monkeypatch`` undoes it."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups off loopback
    bucket = S3Bucket(endpoint, f"lake-{uuid.uuid4().hex[:12]}")
    bucket.client().create_bucket(Bucket=bucket.bucket)
    return bucket


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
