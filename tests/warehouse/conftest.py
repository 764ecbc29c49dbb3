"""Fixtures of the warehouse tests: ``moto_s3``, a bucket on an S3-compatible server on loopback."""

from s3_server import _moto_endpoint, moto_s3  # noqa: F401  (fixtures, found by name)
