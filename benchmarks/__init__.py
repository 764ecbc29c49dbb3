"""``make bench``: the export pipeline measured against a plain-httpx floor, over the sandbox API.

Run ``python -m benchmarks.run --help``; what is measured and what it showed is in
``benchmarks/README.md``. Not part of the test suite: timings belong here, not in tests.
"""
