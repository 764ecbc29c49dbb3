"""``python -m sandbox``: run the sandbox API until SIGTERM or SIGINT.

Prints ``base_url=<url>`` on one flushed line first, so scripts (``make demo``,
benchmarks) can start it on a free port and read where it listens; then
``api_key=<key>`` (a sandbox key, not a secret: it opens only this server) and
the two ``export`` lines that point the CLI at it. ``make sandbox`` runs it on
port 8642 with the key ``sk-sandbox``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sandbox.faults import FaultPlan
from sandbox.fixtures import Catalog, GeneratedCatalog, StaticCatalog, bundled_assistants
from sandbox.server import SandboxServer


def _fault_plan(spec: str) -> FaultPlan:
    """FaultPlan.parse, with its message shown by argparse instead of a generic "invalid value"."""
    try:
        return FaultPlan.parse(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Serve the sandbox Assistants API on 127.0.0.1 until SIGTERM or SIGINT."
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--api-key", default="sk-sandbox", help="the only key accepted")
    parser.add_argument(
        "--generated", type=int, metavar="N", help="serve N generated assistants instead of the bundled ones"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added before every answer")
    parser.add_argument("--azure", action="store_true", help="Azure OpenAI routes (/openai/...) and api-key auth")
    parser.add_argument("--faults", type=_fault_plan, help='e.g. "rate=0.3,kinds=rate_limit+reset,seed=7"')
    parser.add_argument("--max-concurrent", type=int, help="answer 429 beyond this many requests in flight")
    return parser.parse_args(argv)


def _catalog(generated: int | None) -> Catalog:
    return StaticCatalog(bundled_assistants()) if generated is None else GeneratedCatalog(generated)


def _describe(args: argparse.Namespace) -> str:
    if args.generated is not None:
        return f"{args.generated} generated assistants"
    return f"the {len(bundled_assistants())} bundled assistants; snapshot them all with --discover"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server = SandboxServer(
        _catalog(args.generated),
        api_key=args.api_key,
        auth_style="azure" if args.azure else "bearer",
        faults=args.faults,
        latency=args.latency_ms / 1000,
        max_concurrent=args.max_concurrent,
        port=args.port,
    )
    with server:
        print(f"base_url={server.base_url}", flush=True)
        print(f"api_key={args.api_key}", flush=True)
        print(f"# Sandbox Assistants API ({_describe(args)}). In another shell:\n"
              f"#   export OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY={args.api_key}"
              f"{' ASSISTANTS_AUTH_STYLE=azure' if args.azure else ''}\n"
              "# Stop it with Ctrl-C.", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
