"""A loopback imitation of the Assistants API's two GET endpoints, for tests, demos and benchmarks.

It speaks real HTTP/1.1 over real sockets (keep-alive, Content-Length, TCP resets) so
the client's transport code runs exactly as in production, and it copies what the API
puts on the wire (status codes, error bodies, headers) so that the client's error
classification is tested against the real shapes.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import ipaddress
import json
import re
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from assistants_export.sandbox.evolving import EvolvingCatalog
from assistants_export.sandbox.faults import Fault, FaultPlan
from assistants_export.sandbox.fixtures import Catalog, serialize_body

AuthStyle = Literal["bearer", "azure", "entra"]

BETA_HEADER = "OpenAI-Beta"
BETA_VALUE = "assistants=v2"
CONTROL_DATE_PATH = "/_control/date"
"""With an :class:`EvolvingCatalog`: ``GET`` says which date is served, ``POST ?date=YYYY-MM-DD`` switches it."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_API_KEYS_URL = "https://platform.openai.com/account/api-keys"
_NO_KEY_MESSAGES: dict[AuthStyle, str] = {
    "bearer": (
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
        "you're accessing the API from your browser and are prompted for a username. You can obtain an API "
        f"key from {_API_KEYS_URL}."
    ),
    "azure": (
        "Access denied due to missing subscription key. Make sure to include subscription key when making "
        "requests to an API."
    ),
    "entra": "Unauthorized. Access token is missing, invalid, audience is incorrect (https://ai.azure.com), or have "
             "expired.",
}
_AZURE_WRONG_KEY_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_BETA_MESSAGE = (
    "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting "
    "the header 'OpenAI-Beta: assistants=v2'."
)
_PROXY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)
_INTEGER = re.compile(r"-?[0-9]+")


# --- Replies ----------------------------------------------------------------------


class Delivery(enum.Enum):
    """How a reply goes on the wire; anything but FULL simulates a broken network path."""

    FULL = "full"
    RESET = "reset"
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class Reply:
    """Everything about one answer, decided before any byte is written."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delivery: Delivery = Delivery.FULL


def _error(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """An answer in the API's ErrorResponse shape."""
    error = {"message": message, "type": error_type, "param": param, "code": code}
    return Reply(status, serialize_body({"error": error}), headers=headers)


def _invalid_url(method: str, path: str) -> Reply:
    return _error(404, f"Invalid URL ({method} {path})")


def _rate_limited(message: str, header: tuple[str, str]) -> Reply:
    return _error(429, message, error_type="requests", code="rate_limit_exceeded", headers=(header,))


_SERVER_ERROR = _error(
    500, "The server had an error while processing your request. Sorry about that!", error_type="server_error"
)
_BAD_GATEWAY = _error(502, "Bad gateway.", error_type="cf_bad_gateway")
_UNAVAILABLE = _error(503, "The server is overloaded or not ready yet.", error_type="server_error")
_OVER_CAPACITY = _rate_limited(
    "Too many concurrent requests. Please slow down and retry after a short wait.", ("retry-after", "1")
)


def mask_key(key: str) -> str:
    """A rejected key as OpenAI echoes it: first 3 and last 4 characters, the rest starred.

    Keys shorter than 12 characters are starred entirely, so an error body never carries
    enough of a key to use it.
    """
    if len(key) < 12:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def _seconds(value: float) -> str:
    """1 -> "1", 0.5 -> "0.5", 120.0 -> "120": header values as servers write them (never exponents)."""
    return f"{value:f}".rstrip("0").rstrip(".")


def _without_model(reply: Reply) -> Reply:
    """The same 200 with ``model`` removed: a body that parses but violates the schema."""
    if reply.status != 200:
        return reply
    try:
        obj = json.loads(reply.body)
    except ValueError:
        return reply
    if isinstance(obj, dict):
        obj.pop("model", None)
    return replace(reply, body=serialize_body(obj))


def _list_body(items: list[bytes], first_id: str | None, last_id: str | None, has_more: bool) -> bytes:
    """The ListAssistantsResponse, joined from pre-serialised items instead of re-encoding them."""
    return b"".join(
        (
            b'{"object":"list","data":[',
            b",".join(items),
            b'],"first_id":',
            serialize_body(first_id),
            b',"last_id":',
            serialize_body(last_id),
            b',"has_more":',
            b"true" if has_more else b"false",
            b"}",
        )
    )


# --- Request parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    """A matched assistants route; ``assistant_id`` None means the list endpoint."""

    assistant_id: str | None


@dataclass(frozen=True)
class _ListParams:
    limit: int
    order: str
    after: str | None
    before: str | None


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _parse_limit(text: str | None) -> int | Reply:
    if text is None:
        return DEFAULT_LIMIT
    if not _INTEGER.fullmatch(text):
        return _error(
            400, f"Invalid 'limit': expected an integer, but got '{text}' instead.", param="limit", code="invalid_type"
        )
    limit = int(text)
    if limit < 1:
        return _error(
            400,
            f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit} instead.",
            param="limit",
            code="integer_below_min_value",
        )
    if limit > MAX_LIMIT:
        return _error(
            400,
            f"Invalid 'limit': integer above maximum value. Expected a value <= {MAX_LIMIT}, but got {limit} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return limit


def _parse_list_params(query: dict[str, list[str]]) -> _ListParams | Reply:
    limit = _parse_limit(_first(query, "limit"))
    if isinstance(limit, Reply):
        return limit
    order = _first(query, "order")
    if order is None:
        order = "desc"
    if order not in ("asc", "desc"):
        return _error(
            400,
            f"Invalid value for 'order': expected one of 'asc' or 'desc', but got '{order}' instead.",
            param="order",
            code="invalid_value",
        )
    return _ListParams(limit, order, _first(query, "after"), _first(query, "before"))


def _unknown_cursor(params: _ListParams, error: KeyError) -> Reply:
    """400 naming the cursor the catalog did not know (the KeyError carries the unknown ID)."""
    unknown = error.args[0] if error.args else None
    param = "after" if params.after is not None and unknown == params.after else "before"
    value = params.after if param == "after" else params.before
    return _error(400, f"Invalid '{param}': no assistant found with id '{value}'.", param=param, code="invalid_value")


def _presents_beta(headers: Message) -> bool:
    """True when any OpenAI-Beta header lists assistants=v2 (the header may carry several betas)."""
    values = headers.get_all(BETA_HEADER) or []
    return any(token.strip() == BETA_VALUE for value in values for token in value.split(","))


def _presented_key(headers: Message, auth_style: AuthStyle) -> str | None:  # entra: the bearer token
    """The key the request carries, or None when it carries none (an empty value counts as none)."""
    if auth_style == "azure":
        return headers.get("api-key") or None
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# --- Statistics ---------------------------------------------------------------------


class ServerStats:
    """What the sandbox saw, updated from handler threads under one lock.

    Every counter is updated before the answer's first byte is written, so a test that
    has received a response can read the counters without racing the server.
    ``requests_by_id`` counts retrieve requests that passed authentication and the beta
    header check; that count is also the attempt number faults are decided on.
    ``max_in_flight`` includes requests rejected for capacity, so it shows the client's
    real concurrency.
    """

    total_requests: int
    requests_by_id: Counter[str]
    request_times_by_id: dict[str, list[float]]
    status_counts: Counter[int]
    faults_injected: Counter[Fault]
    rejected_over_capacity: int
    max_in_flight: int
    list_requests: int
    token_refusals: int
    """Foundry: requests refused for an invalid or expired Entra ID token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._clear()

    def _clear(self) -> None:
        self.total_requests = 0
        self.requests_by_id = Counter()
        self.request_times_by_id = {}
        self.status_counts = Counter()
        self.faults_injected = Counter()
        self.rejected_over_capacity = 0
        self.max_in_flight = 0
        self.list_requests = 0
        self.token_refusals = 0

    def reset(self) -> None:
        """Zero every counter, attempt numbers included, so faults apply afresh (e.g. on the next "day")."""
        with self._lock:
            self._clear()

    @contextmanager
    def in_flight(self) -> Iterator[int]:
        """Count one request for its whole life; yields how many are in flight including it."""
        with self._lock:
            self.total_requests += 1
            self._in_flight += 1
            current = self._in_flight
            self.max_in_flight = max(self.max_in_flight, current)
        try:
            yield current
        finally:
            with self._lock:
                self._in_flight -= 1

    def record_attempt(self, assistant_id: str, arrived: float) -> int:
        """Count a retrieve request; returns its 1-based attempt number for the ID."""
        with self._lock:
            self.requests_by_id[assistant_id] += 1
            self.request_times_by_id.setdefault(assistant_id, []).append(arrived)
            return self.requests_by_id[assistant_id]

    def record_status(self, status: int) -> None:
        with self._lock:
            self.status_counts[status] += 1

    def record_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults_injected[fault] += 1

    def record_token_refusal(self) -> None:
        with self._lock:
            self.token_refusals += 1

    def record_rejection(self) -> None:
        with self._lock:
            self.rejected_over_capacity += 1

    def record_list(self) -> None:
        with self._lock:
            self.list_requests += 1


# --- The server -------------------------------------------------------------------------


class SandboxServer:
    """The Assistants API on a loopback port, serving ``catalog`` (replaceable while running).

    ``latency`` is added before every answer except capacity rejections, which a real
    rate limiter sends at once; ``max_concurrent`` rejects requests beyond that many in
    flight with 429; ``gone`` answers every request 404 Invalid URL, as the API does once
    an endpoint is retired.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        api_key: str = "sk-sandbox",
        auth_style: AuthStyle = "bearer",
        azure_api_version: str = "2024-05-01-preview",
        token_check: Callable[[str], str | None] | None = None,
        project: str = "sandbox-project",
        foundry_api_version: str = "v1",
        faults: FaultPlan | None = None,
        latency: float = 0.0,
        max_concurrent: int | None = None,
        gone: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if auth_style not in ("bearer", "azure", "entra"):
            raise ValueError(f"auth_style must be 'bearer', 'azure' or 'entra', got {auth_style!r}")
        if (auth_style == "entra") != (token_check is not None):
            raise ValueError("auth_style 'entra' (Foundry) takes a token_check (a TokenServer's check), and only it")
        address = ipaddress.ip_address(host)
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"the sandbox binds IPv4 loopback only, got {host!r}")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        self.catalog = catalog
        self.api_key = api_key
        self.auth_style = auth_style
        self.azure_api_version = azure_api_version
        self.token_check = token_check
        """Foundry (auth_style ``entra``): ``None`` for a bearer token that is valid now, else why not."""
        self.project = project
        self.foundry_api_version = foundry_api_version
        self.faults = faults
        self.latency = latency
        self.max_concurrent = max_concurrent
        self.gone = gone
        self.host = host
        self.stats = ServerStats()
        self._requested_port = port
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle.

    def start(self) -> SandboxServer:
        """Bind and serve from a daemon thread; returns self for chaining."""
        if self._httpd is not None:
            raise RuntimeError("the sandbox server is already running")
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self._requested_port), self)
        # stop() waits up to one poll interval; the default 0.5 s would add up across hundreds of tests.
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="sandbox-server", daemon=True
        )
        thread.start()
        self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers, drop open connections and close the socket. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What a client is configured with; Azure clients append ``/openai`` themselves; Foundry's is the project
        endpoint."""
        root = f"http://{self.host}:{self.port}"
        if self.auth_style == "entra":
            return f"{root}/api/projects/{self.project}"
        return root if self.auth_style == "azure" else f"{root}/v1"

    def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops, so stop() never waits on a hang."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # Deciding the answer (called from handler threads).

    def _respond(self, method: str, target: str, headers: Message, *, in_flight: int, arrived: float) -> Reply:
        split = urlsplit(target)
        if split.path == CONTROL_DATE_PATH and isinstance(self.catalog, EvolvingCatalog) and not self.gone:
            return self._authenticate(headers) or self._control_date(method, parse_qs(split.query), self.catalog)
        if self.max_concurrent is not None and in_flight > self.max_concurrent:
            self.stats.record_rejection()
            return _OVER_CAPACITY
        self._pause(self.latency)
        route = None if self.gone else self._route(method, split.path)
        if route is None:
            return self._foundry_not_found(split.path) if self.auth_style == "entra" else _invalid_url(method,
                                                                                                      split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        refusal = self._authenticate(headers) or self._check_api_version(query) or self._check_beta(headers)
        if refusal is not None:
            return refusal
        if route.assistant_id is None:
            return self._list(query)
        return self._retrieve(route.assistant_id, arrived)

    def _control_date(self, method: str, query: dict[str, list[str]], catalog: EvolvingCatalog) -> Reply:
        """Which date an evolving catalog serves, and (POST ?date=YYYY-MM-DD) switching it; not part of the API."""
        if method == "POST":
            text = _first(query, "date") or ""
            try:
                catalog.set_date(dt.date.fromisoformat(text))
            except ValueError as error:
                return _error(400, f"date: {error}" if text else "date: give ?date=YYYY-MM-DD", param="date")
        elif method != "GET":
            return _invalid_url(method, CONTROL_DATE_PATH)
        state = {"date": catalog.date.isoformat(), "night": catalog.night, "assistants": len(catalog)}
        return Reply(200, serialize_body(state))

    def _foundry_not_found(self, path: str) -> Reply:
        """Foundry's 404s: an unknown project (a wrong project endpoint) or any other path."""
        parts = path.split("/")
        if len(parts) > 3 and parts[1:3] == ["api", "projects"] and parts[3] != self.project:
            return _error(404, f"Project '{parts[3][:80]}' not found.", error_type="not_found_error",
                          code="project_not_found")
        return _error(404, "Resource not found", error_type="not_found_error", code="404")

    def _route(self, method: str, path: str) -> _Route | None:
        prefix = {"azure": "/openai/assistants", "entra": f"/api/projects/{self.project}/assistants"}.get(
            self.auth_style, "/v1/assistants")
        if method != "GET":
            return None
        if path == prefix:
            return _Route(None)
        raw_id = path.removeprefix(prefix + "/")
        if raw_id == path or not raw_id or "/" in raw_id:
            return None
        # Decoded after splitting, so an encoded slash (%2F) stays inside the ID and simply matches nothing.
        return _Route(unquote(raw_id))

    def _authenticate(self, headers: Message) -> Reply | None:
        key = _presented_key(headers, self.auth_style)
        if key is None:
            return _error(401, _NO_KEY_MESSAGES[self.auth_style])
        if self.token_check is not None:
            problem = self.token_check(key)
            if problem is None:
                return None
            self.stats.record_token_refusal()
            return _error(401, f"{_NO_KEY_MESSAGES['entra']} ({problem})", error_type="invalid_request_error",
                          code="invalid_token")
        if hmac.compare_digest(key.encode(), self.api_key.encode()):
            return None
        if self.auth_style == "azure":
            message = _AZURE_WRONG_KEY_MESSAGE
        else:
            message = f"Incorrect API key provided: {mask_key(key)}. You can find your API key at {_API_KEYS_URL}."
        return _error(401, message, code="invalid_api_key")

    def _check_api_version(self, query: dict[str, list[str]]) -> Reply | None:
        if self.auth_style not in ("azure", "entra"):
            return None
        supported = self.azure_api_version if self.auth_style == "azure" else self.foundry_api_version
        version = _first(query, "api-version")
        if not version:
            return _error(
                400,
                "Missing required query parameter: api-version",
                param="api-version",
                code="missing_required_parameter",
            )
        if version != supported:
            return _error(
                400,
                f"Unsupported api-version '{version}'. This sandbox supports '{supported}'.",
                param="api-version",
                code="invalid_value",
            )
        return None

    def _check_beta(self, headers: Message) -> Reply | None:
        if self.auth_style == "entra":  # Foundry needs no OpenAI-Beta header
            return None
        return None if _presents_beta(headers) else _error(400, _BETA_MESSAGE, code="invalid_beta")

    def _list(self, query: dict[str, list[str]]) -> Reply:
        self.stats.record_list()
        params = _parse_list_params(query)
        if isinstance(params, Reply):
            return params
        try:
            items, first_id, last_id, has_more = self.catalog.page(
                limit=params.limit, order=params.order, after=params.after, before=params.before
            )
        except KeyError as error:
            return _unknown_cursor(params, error)
        return Reply(200, _list_body(items, first_id, last_id, has_more))

    def _retrieve(self, assistant_id: str, arrived: float) -> Reply:
        attempt = self.stats.record_attempt(assistant_id, arrived)
        body = self.catalog.get(assistant_id)
        reply = Reply(200, body) if body is not None else _error(404, f"No assistant found with id '{assistant_id}'.")
        plan = self.faults
        fault = None if plan is None else plan.fault_for(assistant_id, attempt)
        if plan is None or fault is None:
            return reply
        self.stats.record_fault(fault)
        return self._inject(fault, reply, plan)

    def _inject(self, fault: Fault, normal: Reply, plan: FaultPlan) -> Reply:
        """What ``fault`` turns the normal answer into."""
        match fault:
            case Fault.RATE_LIMIT:
                wait = _seconds(plan.retry_after_seconds)
                message = f"Rate limit reached for requests. Please try again in {wait}s."
                return _rate_limited(message, ("retry-after", wait))
            case Fault.RATE_LIMIT_MS:
                message = f"Rate limit reached for requests. Please try again in {plan.retry_after_ms}ms."
                return _rate_limited(message, ("retry-after-ms", str(plan.retry_after_ms)))
            case Fault.SERVER_ERROR | Fault.ALWAYS_FAIL:
                return _SERVER_ERROR
            case Fault.NO_RETRY:
                return replace(_SERVER_ERROR, headers=(("x-should-retry", "false"),))
            case Fault.BAD_GATEWAY:
                return _BAD_GATEWAY
            case Fault.UNAVAILABLE:
                return _UNAVAILABLE
            case Fault.RESET:
                return Reply(0, b"", delivery=Delivery.RESET)
            case Fault.HANG:
                self._pause(plan.hang_seconds)
                return normal
            case Fault.TRUNCATED:
                return replace(normal, delivery=Delivery.TRUNCATED)
            case Fault.HTML:
                return Reply(200, _PROXY_PAGE, content_type="text/html; charset=utf-8")
            case Fault.INVALID:
                return _without_model(normal)


# --- HTTP plumbing ---------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its connections so stop() can drop them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    """Benchmarks open many connections at once; the default backlog of 5 would drop SYNs."""

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup a loopback server never needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.sandbox.host
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down kept-alive connections, so idle handler threads see EOF and end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue  # already closed by its handler

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or times out is routine here, not worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Transport only: reads the request, asks SandboxServer for the Reply, writes it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """Answers are small single writes; Nagle's algorithm would only delay them."""
    timeout = 60
    """Idle keep-alive connections are closed after this many seconds."""
    server: _HTTPServer

    def do_GET(self) -> None:
        """Every method lands here: the API answers 404 Invalid URL for methods it does not route."""
        sandbox = self.server.sandbox
        arrived = time.monotonic()
        with sandbox.stats.in_flight() as in_flight:
            self._discard_body()
            reply = sandbox._respond(self.command, self.path, self.headers, in_flight=in_flight, arrived=arrived)
            try:
                self._deliver(reply)
            except OSError:
                self.close_connection = True  # the client is gone (timed out or reset)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: per-request lines on stderr would drown test and benchmark output."""

    def _discard_body(self) -> None:
        """Read and drop a request body, so the next request on this kept-alive connection parses."""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or (length is not None and not length.isdigit()):
            self.close_connection = True  # cannot find the end of this body; do not reuse the connection
            return
        remaining = int(length or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                self.close_connection = True
                return
            remaining -= len(chunk)

    def _deliver(self, reply: Reply) -> None:
        """Write the whole answer in one send.

        Separate header and body writes cost a second syscall and wake-up per request,
        measured at about a third of the sandbox's per-request time.
        """
        if reply.delivery is Delivery.RESET:
            self._reset()
            return
        self.server.sandbox.stats.record_status(reply.status)
        body = b"" if self.command == "HEAD" else reply.body
        if reply.delivery is Delivery.TRUNCATED:
            body = body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(self._head(reply) + body)

    def _head(self, reply: Reply) -> bytes:
        lines = [
            f"{self.protocol_version} {reply.status} {HTTPStatus(reply.status).phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
            f"x-request-id: req_{secrets.token_hex(16)}",
            *(f"{name}: {value}" for name, value in reply.headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _reset(self) -> None:
        """Abort the connection with a TCP RST instead of an answer.

        With SO_LINGER on and a zero timeout, closing the socket discards it and sends RST;
        the descriptor is actually released when the handler closes its reader in finish().
        """
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
