"""The test S3 server: on loopback, a fresh bucket per test, the AWS_* variables set, gone when done."""

import os
import socket

from s3_server import ACCESS_KEY, s3_server


def test_the_bucket_is_there_and_the_environment_points_at_it(moto_s3):
    assert moto_s3.endpoint.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ENDPOINT_URL"] == moto_s3.endpoint and os.environ["AWS_ACCESS_KEY_ID"] == ACCESS_KEY
    moto_s3.client().put_object(Bucket=moto_s3.bucket, Key="a/b", Body=b"x")
    assert moto_s3.keys() == ["a/b"]


def test_each_test_gets_a_fresh_bucket(moto_s3):
    assert moto_s3.keys() == []


def test_the_server_stops_by_itself():
    with s3_server() as endpoint:
        port = int(endpoint.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_server_stops_when_the_tests_process_dies_without_cleaning_up():
    import subprocess
    import sys
    import time
    from pathlib import Path

    support = Path(__file__).parents[1] / "support"
    code = (f"import os, sys; sys.path.insert(0, {str(support)!r}); from s3_server import s3_server; "
            "print(s3_server().__enter__(), flush=True); os._exit(0)")  # no finally, no atexit: a SIGKILL's state
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    port = int(done.stdout.strip().rsplit(":", 1)[1])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the S3 server on port {port} outlived the process that started it")
