"""``python -m assistants_export.sandbox``: run the sandbox API until SIGTERM or SIGINT.

Prints ``base_url=<url>`` on one flushed line first, so scripts (``make demo``,
benchmarks) can start it on a free port and read where it listens; then
``api_key=<key>`` (a sandbox key, not a secret: it opens only this server) and
the two ``export`` lines that point the CLI at it. ``make sandbox`` runs it on
port 8642 with the key ``sk-sandbox``.

With ``--generated N --change-rate R`` the catalog evolves by date (:mod:`assistants_export.sandbox.evolving`):
``--start-date`` is night 0, ``--catalog-date`` the date served at first, and
``POST /_control/date?date=YYYY-MM-DD`` (with the API key) switches it while running.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from assistants_export.sandbox.entra import TokenServer
from assistants_export.sandbox.evolving import DEFAULT_START, EvolvingCatalog
from assistants_export.sandbox.faults import FaultPlan
from assistants_export.sandbox.fixtures import Catalog, GeneratedCatalog, StaticCatalog, bundled_assistants
from assistants_export.sandbox.foundry import FoundryCatalog
from assistants_export.sandbox.server import SandboxServer


def _fault_plan(spec: str) -> FaultPlan:
    """FaultPlan.parse, with its message shown by argparse instead of a generic "invalid value"."""
    try:
        return FaultPlan.parse(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m assistants_export.sandbox",
        description=f"Serve the sandbox Assistants API on 127.0.0.1 until SIGTERM or SIGINT: the "
        f"{len(bundled_assistants())} bundled assistants, or --generated N (with --change-rate, a catalogue that "
        "changes night after night, as make demo serves it).",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--api-key", default="sk-sandbox", help="the only key accepted")
    parser.add_argument(
        "--generated", type=int, metavar="N", help="serve N generated assistants instead of the bundled ones"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated assistants (default 0)")
    evolving = parser.add_argument_group(
        "catalog evolving by date (with --generated)",
        "Each night every assistant changes with probability --change-rate; a few are deleted and created. "
        "POST /_control/date?date=YYYY-MM-DD (with the API key) switches the date served.")
    evolving.add_argument("--change-rate", type=_rate, metavar="R", help="nightly change probability per assistant")
    evolving.add_argument("--deletion-rate", type=_rate, metavar="R", help="nightly deletion probability "
                          "(default: change rate / 10)")
    evolving.add_argument("--creation-rate", type=_rate, metavar="R", help="assistants created per night, as a "
                          "share of N (default: change rate / 10)")
    evolving.add_argument("--start-date", type=_date, default=DEFAULT_START, metavar="D",
                          help=f"night 0: the plain generated catalog (default {DEFAULT_START})")
    evolving.add_argument("--catalog-date", "--catalogue-date", type=_date, metavar="D",
                          help="the date served at first (default: --start-date)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added before every answer")
    parser.add_argument("--azure", action="store_true", help="Azure OpenAI routes (/openai/...) and api-key auth")
    parser.add_argument("--foundry", action="store_true",
                        help="Azure AI Foundry Agent Service: the project route (/api/projects/<project>/...), "
                             "api-version=v1, Entra ID bearer tokens from a loopback TLS token endpoint it also "
                             "starts, and generated agents with Foundry's tools (--generated N, default 40)")
    parser.add_argument("--token-lifetime", type=float, default=3600.0, metavar="S",
                        help="with --foundry: seconds each token lives (short ones show a run renewing its token)")
    parser.add_argument("--faults", type=_fault_plan, help='e.g. "rate=0.3,kinds=rate_limit+reset,seed=7"')
    parser.add_argument("--max-concurrent", type=int, help="answer 429 beyond this many requests in flight")
    args = parser.parse_args(argv)
    evolving_options = (args.deletion_rate, args.creation_rate, args.catalog_date)
    if args.change_rate is None and any(option is not None for option in evolving_options):
        parser.error("--deletion-rate, --creation-rate and --catalog-date need --change-rate")
    if args.change_rate is not None and args.generated is None:
        parser.error("--change-rate needs --generated N")
    if args.catalog_date is not None and args.catalog_date < args.start_date:
        parser.error(f"--catalog-date {args.catalog_date} is before --start-date {args.start_date}")
    if args.foundry and (args.azure or args.change_rate is not None):
        parser.error("--foundry serves generated Foundry agents: not with --azure or --change-rate")
    if not args.token_lifetime > 0:
        parser.error("--token-lifetime must be a positive number of seconds")
    return args


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return rate


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def _catalog(args: argparse.Namespace) -> Catalog:
    if args.foundry:
        return FoundryCatalog(40 if args.generated is None else args.generated, seed=args.seed)
    if args.generated is None:
        return StaticCatalog(bundled_assistants())
    if args.change_rate is None:
        return GeneratedCatalog(args.generated, seed=args.seed)
    start: dt.date = args.start_date
    night = 0 if args.catalog_date is None else (args.catalog_date - start).days
    return EvolvingCatalog(args.generated, args.change_rate, seed=args.seed, deletion_rate=args.deletion_rate,
                           creation_rate=args.creation_rate, start=start, night=night)


def _describe(args: argparse.Namespace, catalog: Catalog) -> str:
    if isinstance(catalog, FoundryCatalog):
        return f"Foundry project: {len(catalog)} generated agents with Foundry's tools; snapshot with --discover"
    if isinstance(catalog, EvolvingCatalog):
        return (f"{args.generated} generated assistants evolving at {args.change_rate:g} a night from "
                f"{catalog.start}, serving {catalog.date}: {len(catalog)} assistants; switch with "
                f"POST /_control/date?date=YYYY-MM-DD")
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
    catalog = _catalog(args)
    with contextlib.ExitStack() as stack:
        tokens = None
        if args.foundry:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sandbox-entra-")))
            tokens = stack.enter_context(TokenServer(folder, lifetime=args.token_lifetime))
        return _serve(args, catalog, stop, tokens)


def _serve(args: argparse.Namespace, catalog: Catalog, stop: threading.Event, tokens: TokenServer | None) -> int:
    server = SandboxServer(
        catalog,
        api_key=args.api_key,
        auth_style="entra" if tokens is not None else "azure" if args.azure else "bearer",
        token_check=tokens.check if tokens is not None else None,
        faults=args.faults,
        latency=args.latency_ms / 1000,
        max_concurrent=args.max_concurrent,
        port=args.port,
    )
    with server:
        print(f"base_url={server.base_url}", flush=True)
        if tokens is not None:
            exports = " ".join(f"{name}={value}" for name, value in tokens.environment().items())
            print(f"# Sandbox Foundry project ({_describe(args, catalog)}); a sandbox service principal, not a "
                  f"secret (it opens only this server). In another shell:\n"
                  f"#   export OPENAI_BASE_URL={server.base_url} ASSISTANTS_AUTH_STYLE=entra "
                  f"ASSISTANTS_ENTRA_CREDENTIAL=environment {exports}\n"
                  "# Stop it with Ctrl-C.", flush=True)
            for name, value in tokens.environment().items():
                print(f"{name}={value}", flush=True)
            stop.wait()
            return 0
        print(f"api_key={args.api_key}", flush=True)
        print(f"# Sandbox Assistants API ({_describe(args, catalog)}). In another shell:\n"
              f"#   export OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY={args.api_key}"
              f"{' ASSISTANTS_AUTH_STYLE=azure' if args.azure else ''}\n"
              "# Stop it with Ctrl-C.", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
