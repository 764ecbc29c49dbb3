"""What an answer means: pure functions from one HTTP answer (or one failed attempt) to a :class:`Verdict`.

Every decision the client takes about an answer is made here, and only here:

* :func:`judge` for an HTTP answer (status, headers, parsed body);
* :func:`judge_failure` for an attempt that got no answer (a timeout, a connection
  error), a body over the size cap or one that cannot be decoded;
* :func:`judge_payload` for an Assistant object (a retrieved one, or one item of a list page).

The rules run in the order the README's "Retries" section states them, one branch
each, with a comment naming the rule (they follow the official OpenAI SDK,
``_base_client._should_retry`` and ``_parse_retry_after_header``):

1. The server's ``x-should-retry: true|false`` wins (on an error status).
2. Otherwise 408, 409, 429 and every 5xx are retried, as are connection errors,
   timeouts, truncated JSON and an HTML page in place of JSON on a 200. An invalid
   Assistant object is deterministic and is not retried.
3. The wait is the server's ``retry-after-ms``, else ``retry-after`` (seconds or an
   HTTP date), obeyed exactly when positive and at most ``retry_after_cap``;
   otherwise exponential backoff from ``initial_retry_delay`` doubling to
   ``max_retry_delay``, less up to 25 % jitter. ``Retry-After: 0`` gets backoff,
   never a tight loop (dlt #4036).
4. At most ``max_attempts`` attempts per request and ``id_deadline`` seconds per ID; one attempt
   takes at most ``request_deadline`` seconds, and never more than the ID has left.

An answer that is not retried then means one of (README, "What happens to each ID"):
the whole run stops (401/403; an endpoint that is gone: a redirect, 410, any 404
that is not "No assistant found"), ``not_found``, ``ok`` or ``invalid`` (a 200,
judged by its content), or ``failed`` for this ID alone. For the listing
(``GET /assistants``: the preflight and the discover pages) every 404 and every
answer that is not a list page means the endpoint is gone, and running out of
attempts stops the run (the endpoint is unreachable).

Nothing here does I/O or keeps state: the caller passes the attempt number, the
seconds spent so far and the jitter, and turns the verdict into a
:class:`~assistants_export.connectors.openai_assistants.results.FetchResult` or a
:class:`~assistants_export.connectors.core.errors.RunAbortedError` with its message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import errno
import math
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.core.errors import RequestTimedOut, ResponseTooLarge, UnreadableResponse
from assistants_export.connectors.core.schemas import ASSISTANTS

from . import settings
from .config import ClientConfig
from .validation import format_path, nesting_problem, validate_assistant


class Kind(enum.Enum):
    """What the client does with an answer."""

    OK = "ok"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    RETRY = "retry"
    """Send the request again after :attr:`Verdict.wait` seconds."""
    GIVE_UP = "give_up"
    """This ID ends ``failed``: retries ran out, or the answer is a final error for this ID alone."""
    UNAUTHORIZED = "unauthorized"
    """Whole run: 401 or 403."""
    ENDPOINT_GONE = "endpoint_gone"
    """Whole run: the base URL does not serve the Assistants API."""
    UNREACHABLE = "unreachable"
    """Whole run: the listing got no usable answer after every attempt."""
    NEW_TOKEN = "new_token"  # noqa: S105 - a verdict's name, not a credential
    """auth_style ``entra``: get a new Entra ID token and send the request once more (a first 401)."""

    @property
    def stops_the_run(self) -> bool:
        return self in (Kind.UNAUTHORIZED, Kind.ENDPOINT_GONE, Kind.UNREACHABLE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an answer means, and the rule that said so."""

    kind: Kind
    rule: str
    """The rule that decided, in the words of the README (for logs and tests)."""
    wait: float = 0.0
    """Seconds to wait before the next attempt (``RETRY`` only)."""
    error_type: str | None = None
    """Set when the failure is not an API error body (a timeout, an HTML page on a 200...); otherwise the
    caller reads the error type and message from the answer's body."""
    message: str | None = None
    problems: tuple[str, ...] = ()
    """Why the Assistant object is invalid (``INVALID`` only)."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


HTML_BODY = _Marker("<html body>")
"""The parsed body of an answer that is an HTML page (a proxy's or a web server's)."""
BROKEN_JSON = _Marker("<malformed json>")
"""The parsed body of an empty, truncated or malformed JSON answer."""
TOO_DEEP = _Marker("<json nested too deeply to parse>")
"""The parsed body of JSON nested too deeply for the parser: deterministic, judged invalid, never retried."""


@dataclass(slots=True)
class Answer:
    """One HTTP answer, read whole (within the size cap)."""

    status: int
    headers: Mapping[str, str]
    text: str
    json: Any = None
    """The parsed body, or one of :data:`HTML_BODY`, :data:`BROKEN_JSON`, :data:`TOO_DEEP`."""
    overflow: bool = False
    """A number in the body was too large for a double and parsed to infinity (``1e400``)."""
    canonical: str | None = None
    """The canonical JSON text of :attr:`json` (a retrieved 200 object's: what its content hash is made of)."""
    repeated: model.Path | None = None
    """The path of the first key the body holds twice in one object, if any (``("metadata", "team")``)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings the rules read, taken from a :class:`ClientConfig`."""

    max_attempts: int
    id_deadline: float
    retry_after_cap: float
    initial_retry_delay: float
    max_retry_delay: float
    not_found: re.Pattern[str]
    dialect: str = "openai"
    """The schema a body is held to (``foundry`` for auth_style ``entra``)."""
    entra: bool = False
    """Tokens that can be renewed: a first 401 asks for a new one rather than stopping the run."""

    @classmethod
    def of(cls, config: ClientConfig) -> Policy:
        return cls(config.max_attempts, config.id_deadline, config.retry_after_cap, config.initial_retry_delay,
                   config.max_retry_delay, re.compile(config.not_found_pattern), config.dialect,
                   config.auth_style == "entra")


# --- HTTP answers ---------------------------------------------------------------------------------------

def judge(answer: Answer, *, expected_id: str | None, attempt: int, elapsed: float, policy: Policy,
          jitter: float, clock: Callable[[], float] = time.time, refreshed: bool = False) -> Verdict:
    """What ``answer`` means.

    ``expected_id`` is the assistant ID asked for, ``None`` for the listing. ``attempt``
    is this answer's attempt (1-based) and ``elapsed`` the seconds spent on the request
    so far, this attempt included. ``jitter`` (from 0 to 1) takes that share of 25 % off
    a backoff delay; ``clock`` (the wall clock) is read only for a ``Retry-After`` that is
    an HTTP date. ``refreshed``: this request already got a new Entra ID token after a 401.
    """
    status, body = answer.status, answer.json
    # Entra (auth_style entra): a first 401 of a request means its token was refused (expired early, a rotated
    # key): one new token and one more try, whatever else the answer says; a second 401 stops the run (below).
    if status == 401 and policy.entra and not refreshed:
        return Verdict(Kind.NEW_TOKEN, "Entra: first 401")
    server_says = answer.headers.get("x-should-retry", "").strip().lower() if status >= 400 else ""
    tries = (attempt, elapsed, policy, jitter, expected_id is None, clock)
    # Rule 1: the server's x-should-retry: true wins (on an error status).
    if server_says == "true":
        return _again("x-should-retry: true", answer.headers, tries)
    # Rule 1: the server's x-should-retry: false wins (on an error status).
    if server_says == "false":
        return _final(answer, expected_id, policy)
    # Rule 2: 408, 409, 429 and every 5xx are retried.
    if status in settings.RETRYABLE_STATUS or status >= 500:
        return _again("retryable status", answer.headers, tries)
    # Rule 2: an HTML page in place of JSON on a 200 (a proxy's error page) is retried.
    if status == 200 and body is HTML_BODY:
        return _again("HTML on a 200", answer.headers, tries, error_type="html_response",
                      message="answered 200 with an HTML page instead of JSON (a proxy or gateway?)")
    # Rule 2: truncated (or malformed) JSON on a 200 is retried.
    if status == 200 and body is BROKEN_JSON:
        return _again("truncated JSON on a 200", answer.headers, tries, error_type="malformed_json",
                      message="answered 200 with a truncated or malformed JSON body")
    return _final(answer, expected_id, policy)


def _final(answer: Answer, expected_id: str | None, policy: Policy) -> Verdict:
    """An answer that is not retried: the whole run stops, or it is this ID's outcome."""
    status, body = answer.status, answer.json
    # Whole run: 401 or 403, the key is refused.
    if status in (401, 403):
        return Verdict(Kind.UNAUTHORIZED, "401 or 403")
    # Whole run, endpoint gone: a redirect (the API never redirects).
    if 300 <= status < 400:
        return Verdict(Kind.ENDPOINT_GONE, "redirect")
    # Whole run, endpoint gone: 410.
    if status == 410:
        return Verdict(Kind.ENDPOINT_GONE, "410")
    # Whole run, endpoint gone: a 400 about the api-version parameter (Foundry's or Azure's AgentV1Error with
    # param "api-version", or its message naming it): every request would get it.
    if status == 400 and names_api_version(body):
        return Verdict(Kind.ENDPOINT_GONE, "api-version refused")
    # not_found: a 404 for one ID whose message matches not_found_pattern ("No assistant found").
    if status == 404 and expected_id is not None and is_not_found(body, policy.not_found):
        return Verdict(Kind.NOT_FOUND, "No assistant found")
    # Whole run, endpoint gone: any other 404 (such as "Invalid URL"), and every 404 of the listing.
    if status == 404:
        return Verdict(Kind.ENDPOINT_GONE, "other 404")
    # The listing: a list page, else the endpoint is gone (not an Assistants API).
    if expected_id is None:
        return _LIST_PAGE if status == 200 and is_list_page(body) else _NOT_A_LIST
    # ok or invalid: a 200 is judged by its content (an invalid object is never retried).
    if status == 200:
        return judge_payload(body, answer.text, expected_id=expected_id, overflow=answer.overflow,
                             repeated=answer.repeated, dialect=policy.dialect)
    # failed: any other status (400, 422, a 5xx the server said not to retry...) for this ID alone.
    return Verdict(Kind.GIVE_UP, "final status")


NOT_A_LIST = "no list page"
"""The rule of a listing answer that is neither a whole-run status nor a list page."""
_LIST_PAGE = Verdict(Kind.OK, "list page")
_NOT_A_LIST = Verdict(Kind.ENDPOINT_GONE, NOT_A_LIST)


def is_not_found(body: Any, pattern: re.Pattern[str]) -> bool:
    """Whether an error body's message says the assistant does not exist."""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return isinstance(message, str) and bool(pattern.search(message))


def names_api_version(body: Any) -> bool:
    """Whether an error body is about the ``api-version`` query parameter (an unsupported or missing version)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    words = " ".join(str(error.get(key) or "") for key in ("param", "code", "message")).lower()
    return "api-version" in words or "apiversion" in words.replace("_", "").replace(" ", "")


def is_list_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list) and "has_more" in body


# --- Attempts without an answer --------------------------------------------------------------------------

CONNECT_BUDGET_SPENT = "no connection within the connect budget"
"""The rule of a preflight that could not connect within ``connect_budget`` (the run stops, naming the host)."""


def judge_failure(exc: httpx.TransportError | UnreadableResponse | RequestTimedOut, *, listing: bool, attempt: int,
                  elapsed: float, policy: Policy, jitter: float, connect_budget: float | None = None) -> Verdict:
    """What an attempt that got no usable answer means (``listing``: the request was ``GET /assistants``;
    ``connect_budget``: the seconds the preflight may spend failing to connect)."""
    # Body cap: a body over max_response_bytes, on the wire or decoded, is refused and never retried.
    if isinstance(exc, ResponseTooLarge):
        return _give_up("body over the cap", listing, exc.error_type, str(exc))
    # A body in content codings the client does not undo, or corrupt compressed data: refused, never retried.
    if isinstance(exc, UnreadableResponse):
        return _give_up("body not decodable", listing, exc.error_type, str(exc))
    tries = (attempt, elapsed, policy, jitter, listing, time.time)
    # Rule 4: the preflight stops once failing to connect (refused, or no handshake) has taken connect_budget,
    # the coming wait included: a host that is not there fails in seconds, not after the per-ID budget.
    if connect_budget is not None and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        verdict = _again("connection error", {}, tries, error_type="connection_error", message=connect_problem(exc))
        if verdict.kind is not Kind.RETRY or elapsed + verdict.wait < connect_budget:
            return verdict  # retried, or out of attempts first
        return Verdict(Kind.UNREACHABLE, CONNECT_BUDGET_SPENT, 0.0, "connection_error", connect_problem(exc))
    # Rule 2: timeouts are retried, a request that outlived its wall-clock deadline too.
    if isinstance(exc, RequestTimedOut):
        return _again("timeout", {}, tries, error_type="timeout", message=str(exc))
    if isinstance(exc, httpx.TimeoutException):
        return _again("timeout", {}, tries, error_type="timeout",
                      message=f"{type(exc).__name__}: no answer within the timeout")
    # Rule 2: connection errors (every other transport error) are retried.
    return _again("connection error", {}, tries, error_type="connection_error",
                  message=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def connect_problem(exc: httpx.ConnectError | httpx.ConnectTimeout) -> str:
    """What went wrong connecting, in a few words: ``connection refused``, ``no answer to the connection``...
    (httpx says "All connection attempts failed"; the operating system's error is in the chain of causes)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer to the connection (a firewall, or a host that is down)"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(cause, OSError) and cause.errno in _CONNECT_ERRNOS:
            return _CONNECT_ERRNOS[cause.errno]
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_CONNECT_ERRNOS = {errno.ECONNREFUSED: "connection refused", errno.EHOSTUNREACH: "no route to host",
                   errno.ENETUNREACH: "network is unreachable", errno.ECONNRESET: "connection reset",
                   errno.ETIMEDOUT: "no answer to the connection (a firewall, or a host that is down)"}


# --- Retry or give up (rules 3 and 4) ----------------------------------------------------------------------

_Tries = tuple[int, float, Policy, float, bool, Callable[[], float]]
"""Where the request stands, what rules 3 and 4 read besides the answer: the attempt, the seconds
elapsed, the policy, the jitter, whether it is the listing, the wall clock."""


def _again(rule: str, headers: Mapping[str, str], tries: _Tries, *, error_type: str | None = None,
           message: str | None = None) -> Verdict:
    """A retryable failure: retry after the wait, unless attempts or the ID's deadline have run out."""
    attempt, elapsed, policy, jitter, listing, clock = tries
    asked = parse_retry_after(headers, clock) if headers else None
    # Rule 3: the server's retry-after-ms, else retry-after, obeyed exactly when positive and at most the cap.
    if asked is not None and 0 < asked <= policy.retry_after_cap:
        wait = asked
    # Rule 3: otherwise exponential backoff, less up to 25 % jitter (Retry-After: 0 gets backoff).
    else:
        wait = backoff(attempt, policy.initial_retry_delay, policy.max_retry_delay, jitter)
    # Rule 4: at most max_attempts attempts per request.
    if attempt >= policy.max_attempts:
        return _give_up(f"{rule}, attempts exhausted", listing, error_type, message)
    # Rule 4: at most id_deadline seconds per ID, the coming wait included.
    if elapsed + wait >= policy.id_deadline:
        return _give_up(f"{rule}, deadline reached", listing, error_type, message)
    return Verdict(Kind.RETRY, rule, wait, error_type, message)


def _give_up(rule: str, listing: bool, error_type: str | None, message: str | None) -> Verdict:
    # failed for one ID; for the listing the whole run stops (the endpoint is unreachable).
    return Verdict(Kind.UNREACHABLE if listing else Kind.GIVE_UP, rule, 0.0, error_type, message)


def give_up(verdict: Verdict, listing: bool) -> Verdict:
    """Rule 4 for a retry verdict whose attempts ran out elsewhere (the retry loop's stop rule): the give-up
    :func:`judge` says on the last attempt, with the same words."""
    return _give_up(f"{verdict.rule}, attempts exhausted", listing, verdict.error_type, verdict.message)


def parse_retry_after(headers: Mapping[str, str], clock: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait, or ``None`` when it did not say (or said nonsense).

    ``retry-after-ms`` (float milliseconds) is read first, then ``retry-after``
    as float seconds or an HTTP date. The result may be zero or negative; rule 3
    decides what to do with that.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - clock()


def backoff(attempt: int, initial: float, maximum: float, jitter: float) -> float:
    """Delay after failed attempt ``attempt`` (1-based): 0.5, 1, 2, 4, 8, 8... less ``jitter`` x 25 %."""
    delay = min(initial * 2.0 ** (attempt - 1), maximum)
    return delay * (1.0 - 0.25 * jitter)


# --- Assistant objects -----------------------------------------------------------------------------------

_VALID = Verdict(Kind.OK, "valid assistant")


def judge_payload(payload: Any, text: str, *, expected_id: str, overflow: bool = False,
                  repeated: model.Path | None = None, dialect: str = "openai") -> Verdict:
    """``ok``, or ``invalid`` with the reasons: a key twice in one object (``repeated``, its path), schema and
    limits, storability, the ID answered for."""
    problems = (_too_deep(payload, text) or validate_assistant(payload, dialect)
                or _unstorable(payload, text, overflow))
    # invalid: a key twice in one object, which JSON parsers read differently (Python's json keeps the last, DuckDB
    # the first): what is stored must mean one thing.
    if repeated is not None:
        problems = [f"{format_path(repeated)}: the key appears twice in one object, and JSON parsers disagree on "
                    "which value counts", *problems]
    # invalid: an answer for an ID other than the one asked for.
    if not problems and payload.get("id") != expected_id:
        problems = [f"id: the answer is for {str(payload.get('id'))[:80]!r}, not the ID asked for"]
    # invalid: not a valid Assistant object (deterministic: never retried).
    if problems:
        return Verdict(Kind.INVALID, "invalid assistant", problems=tuple(problems))
    return _VALID


_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _too_deep(payload: Any, text: str) -> list[str]:
    """Nesting that would crash the recursive steps downstream; checked before anything walks the payload."""
    if payload is TOO_DEEP:
        return ["$: nested too deeply to parse"]
    problem = nesting_problem(payload, text)
    return [problem] if problem else []


def _unstorable(payload: Any, text: str, overflow: bool = False) -> list[str]:
    """Problems JSON parsers let through but that cannot be stored faithfully.

    Python's ``json`` accepts ``NaN``/``Infinity`` (not JSON at all), turns numbers
    too large for a double into infinity (``overflow``, noted while parsing), and
    accepts unpaired surrogate escapes (JSON, but not Unicode text). Substring tests
    run at C speed and only a hit pays for the full walk; regular expressions over
    the body cost as much as parsing it (benchmarks/README.md). An integer its column
    cannot hold (a ``created_at`` of 30 digits) would be stored NULL in ``assistants``
    and as it is in ``raw_assistants``: one dictionary lookup per such field.
    """
    for name, (low, high, holds) in _COLUMN_RANGES.items():
        value = payload.get(name)
        if isinstance(value, int) and not low <= value <= high:
            shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
            return [f"{name}: {shown} is outside what its column holds ({holds}: {low} to {high})"]
    if (overflow or "NaN" in text or "Infinity" in text) and not _finite(payload):
        return ["$: a number is NaN or Infinity (or too large for a double), which JSON does not allow"]
    if "\\u" in text and _LONE_SURROGATE_ESCAPE.search(text) and not encodable(payload):
        return ["$: a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not Unicode text"]
    return []


def _column_range(column: str) -> tuple[int, int, str]:
    """The integers the ``assistants`` column ``column`` holds, and how to say so."""
    kind = ASSISTANTS.schema.field(column).type
    if pa.types.is_timestamp(kind):  # the flattener's Unix seconds: Python's datetimes, years 1 to 9999 (UTC)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        first = dt.datetime.min.replace(tzinfo=dt.UTC) - epoch
        last = dt.datetime.max.replace(tzinfo=dt.UTC, microsecond=0) - epoch
        return int(first.total_seconds()), int(last.total_seconds()), "Unix seconds of the years 1 to 9999"
    if pa.types.is_integer(kind):
        bits = kind.bit_width
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1, f"a {bits}-bit integer"
    raise TypeError(f"{column} holds no integers")  # pragma: no cover - the model maps integers to these


_COLUMN_RANGES = {field.name: _column_range(field.column) for field in model.ASSISTANT.fields
                  if isinstance(field.node, model.Number) and field.node.integer and field.column is not None}
"""The assistant's integer fields that land in an ``assistants`` column, and the range each column holds
(``created_at``: years 1 to 9999). Integers nested deeper are bounded by the schema (``max_num_results``: 1 to
50) or stored as JSON text."""


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def encodable(value: Any) -> bool:
    """Whether every string in ``value`` can be written as UTF-8 (JSON allows unpaired surrogate escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(encodable(k) and encodable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(encodable(v) for v in value)
    return True
