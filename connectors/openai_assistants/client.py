"""The async Assistants API client: retrieve by ID, list everything, one connection pool.

Free of Dagster so it can be used and tested alone::

    config = ClientConfig.from_env()
    async with AssistantsClient(config) as client:
        await client.preflight()
        await client.fetch_many(["asst_abc", "asst_def"], on_result=print)

Each ID ends in a :class:`FetchResult`; only conditions that doom every other
request too (a refused key, an endpoint that is gone) raise, as a
:class:`RunAbortedError`, which stops all workers at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from assistants_export.connectors.core.errors import (
    AuthenticationError,
    ConnectorError,
    EndpointGoneError,
    EndpointUnreachableError,
    PaginationError,
    RequestTimedOut,
    ResponseTooLarge,
    UnreadableResponse,
    redact,
)
from assistants_export.connectors.core.hashing import canonical_json_normalized, content_hash_of_canonical

from . import settings
from .concurrency import AdaptiveLimit
from .config import ClientConfig
from .decoding import ACCEPT_ENCODING, BodyDecoder, may_repeat_a_key, repeated_keys
from .entra import Credential, TokenSource
from .pagination import CursorPaginator
from .results import FetchResult, Outcome
from .validation import format_path, unknown_fields
from .verdicts import (
    BROKEN_JSON,
    CONNECT_BUDGET_SPENT,
    HTML_BODY,
    NOT_A_LIST,
    TOO_DEEP,
    Answer,
    Kind,
    Policy,
    Verdict,
    encodable,
    give_up,
    judge,
    judge_failure,
    judge_payload,
)

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024
"""Error bodies (HTML pages included) are kept up to this size; invalid 200 bodies are kept whole."""

MESSAGE_LIMIT = 1000
"""A server's error message is kept up to this many characters in messages (the body keeps it whole)."""

USER_AGENT = "assistants-export/0.1"

TRANSPORT_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
                     "httpcore.socks")
"""The loggers of the HTTP libraries, which quote what a server sends (status lines, response headers at DEBUG):
while a client is open their records are redacted (:class:`_RedactingFilter`)."""

Sleep = Callable[[float], Awaitable[None]]

RETRIES_LOGGER = "assistants_export.retries"
"""One WARNING line per retry wave (:class:`_RetryWaves`): the CLI shows them on stderr when no progress display
does; ``dg dev`` leaves them to Python's logging."""
logging.getLogger(RETRIES_LOGGER).addHandler(logging.NullHandler())  # nothing on stderr unless a caller asks
WAVE_SECONDS = 1.0
"""A retry wave: the retries of the first second after one that came when no wave was open."""


@dataclass(slots=True)
class Attempted:
    """How a request ended: the last verdict, the last answer (``None`` when none came) and the attempts made."""

    verdict: Verdict
    answer: Answer | None
    attempts: int


@dataclass
class _Tries:
    """What one request's attempts share: whether its Entra ID token was already replaced after a 401."""

    refreshed: bool = False


@dataclass
class ClientStats:
    """Counters for logs and materialization metadata."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    status_counts: Counter[int] = field(default_factory=Counter)
    concurrency_limit_lowest: int = 0
    """The lowest in-flight limit the adaptive concurrency went down to (the configured one if no 429 came)."""
    concurrency_decreases: int = 0
    """How often a 429 halved the in-flight limit."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AssistantsClient:
    """Talks to ``GET /assistants/{id}`` and ``GET /assistants`` with retry, backoff and limits."""

    def __init__(self, config: ClientConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Sleep = asyncio.sleep, adaptive_concurrency: bool = True,
                 rng: random.Random | None = None, credential: Credential | None = None) -> None:
        """``adaptive_concurrency=False`` keeps ``concurrency`` fixed even under 429s (benchmarks compare both).
        ``credential``: for auth_style ``entra``, an ``azure-identity`` credential to use instead of the one
        ``entra_credential`` names."""
        self.config = config
        self.stats = ClientStats(concurrency_limit_lowest=config.concurrency)
        self.limiter = AdaptiveLimit(config.concurrency) if adaptive_concurrency else None
        self._transport = transport
        self._sleep = sleep
        self._http: httpx.AsyncClient | None = None
        self._secrets: list[str] = list(config.secrets())
        """What is redacted everywhere; an Entra token source adds each token it hands out (the same list)."""
        self._tokens: TokenSource | None = None
        if config.auth_style == "entra":
            self._tokens = TokenSource(config.entra_credential, config.entra_scope, credential=credential,
                                       issued=self._secrets)
        self._log_filter = _RedactingFilter(self._secrets)
        self._policy = Policy.of(config)
        self._random = (rng or random.Random()).random
        self._spacing = 60.0 / config.requests_per_minute if config.requests_per_minute else 0.0
        self._next_slot = 0.0
        self._slot_lock = asyncio.Lock()
        url = httpx.URL(config.api_root)
        self._waves = _RetryWaves(f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}")

    async def __aenter__(self) -> AssistantsClient:
        c = self.config
        if self._tokens is not None:  # a credential that cannot sign in ends the run before any request
            await self._tokens.atoken()
        self._http = httpx.AsyncClient(
            base_url=c.api_root,
            headers=self._headers(),
            params={"api-version": c.api_version} if c.auth_style in ("azure", "entra") else None,
            timeout=httpx.Timeout(connect=c.connect_timeout, read=c.read_timeout, write=settings.WRITE_TIMEOUT,
                                  pool=settings.POOL_TIMEOUT),
            limits=httpx.Limits(max_connections=c.concurrency, max_keepalive_connections=c.concurrency),
            transport=self._transport,
            follow_redirects=False,
        )
        for name in TRANSPORT_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._waves.flush()
        try:
            if self._http is not None:
                await self._http.aclose()
                self._http = None
        finally:
            for name in TRANSPORT_LOGGERS:
                logging.getLogger(name).removeFilter(self._log_filter)

    def _headers(self) -> dict[str, str]:
        c = self.config
        name, value = settings.ASSISTANTS_BETA_HEADER
        headers = {name: value, "User-Agent": USER_AGENT, "Accept": "application/json",
                   "Accept-Encoding": ACCEPT_ENCODING}
        if c.auth_style == "azure":
            headers["api-key"] = c.api_key.reveal()
        elif c.auth_style == "bearer":
            headers["Authorization"] = f"Bearer {c.api_key.reveal()}"
        # entra: each request carries the token of the moment (_read), never a default header
        if c.organization:
            headers["OpenAI-Organization"] = c.organization
        if c.project:
            headers["OpenAI-Project"] = c.project
        headers.update(c.extra_headers)
        return headers

    # --- public API -------------------------------------------------------

    async def preflight(self) -> None:
        """One ``GET /assistants?limit=1``: proves the key and the endpoint before the fan-out.

        Raises :class:`AuthenticationError`, :class:`EndpointGoneError` or
        :class:`EndpointUnreachableError`; returns quietly when the API answers.
        """
        self._stop_the_run(await self._get("/assistants", {"limit": 1}, expected_id=None, target="preflight",
                                           connect_budget=settings.PREFLIGHT_CONNECT_BUDGET), during="preflight")

    async def retrieve(self, assistant_id: str) -> FetchResult:
        """Fetch one assistant; every outcome but a run-level one becomes a :class:`FetchResult`."""
        path = "/assistants/" + quote(assistant_id, safe="")
        started = utcnow()
        ended = await self._get(path, None, expected_id=assistant_id, target=assistant_id)
        self._stop_the_run(ended, during="fetch")
        verdict, answer, attempts = ended.verdict, ended.answer, ended.attempts
        if verdict.kind in (Kind.OK, Kind.INVALID):
            assert answer is not None
            return self._payload_result(assistant_id, verdict, answer.json, answer.text, attempts, answer.status,
                                        canonical=answer.canonical)
        error_type, message = self._failure_text(verdict, answer)
        outcome = Outcome.NOT_FOUND if verdict.kind is Kind.NOT_FOUND else Outcome.FAILED
        return FetchResult(assistant_id, outcome, started, attempts, answer.status if answer else None, error_type,
                           self._clean(message), self._clean_body(answer.text if answer else None))

    async def fetch_many(self, ids: Iterable[str], on_result: Callable[[FetchResult], None]) -> None:
        """Fetch every ID with at most ``concurrency`` in flight, handing each result to ``on_result``.

        IDs are pulled lazily from ``ids`` (so a generator over a huge file is
        fine) and results are handed over as they complete. A
        :class:`ConnectorError` from any worker (a run-level answer, an unreadable ID
        file) cancels the rest and is raised as it is.
        """
        pending = iter(ids)

        async def worker() -> None:
            for assistant_id in pending:
                on_result(await self.retrieve(assistant_id))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.config.concurrency):
                    group.create_task(worker())
        except* ConnectorError as aborted:
            raise aborted.exceptions[0] from None

    async def list_all(self) -> AsyncIterator[list[FetchResult]]:
        """Yield the results of each page of ``GET /assistants`` (full objects, ``order=asc``).

        Pages are followed through ``after=last_id`` until ``has_more`` is false. A listing that would not end
        (a cursor that stays or comes back, a page with ``has_more`` but nothing on it, an assistant listed
        again) raises :class:`PaginationError` (:class:`~.pagination.CursorPaginator`), its message redacted.
        """
        paginator = CursorPaginator(limit=settings.LIST_PAGE_LIMIT)
        params: dict[str, Any] | None = paginator.first_params()
        while params is not None:
            fetched_at = utcnow()
            ended = await self._get("/assistants", params, expected_id=None, target="list")
            self._stop_the_run(ended, during="list")
            assert ended.answer is not None
            page = ended.answer.json
            try:
                params = paginator.next_params(page)
                results = self._page_results(ended.answer, paginator, ended.attempts, fetched_at)
            except PaginationError as exc:  # it quotes the server's IDs and cursors
                raise PaginationError(_one_line(self._clean(str(exc)), 2 * MESSAGE_LIMIT)) from None
            yield results

    def _page_results(self, answer: Answer, paginator: CursorPaginator, attempts: int,
                      fetched_at: dt.datetime) -> list[FetchResult]:
        """The judged results of one list page's items, each admitted by ``paginator`` (listed once)."""
        items = answer.json["data"]
        texts = [_item_text(item) for item in items]
        repeated = self._repeated_in_page(answer, texts, paginator.pages)
        results = []
        for index, (item, text) in enumerate(zip(items, texts, strict=True)):
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str):
                paginator.admit(item_id)
            label = item_id if isinstance(item_id, str) else f"list-item-{paginator.pages}-{index}"
            verdict = judge_payload(item, text, expected_id=label, repeated=repeated.get(index),
                                    dialect=self.config.dialect)
            if verdict.kind is Kind.INVALID:
                label = self._clean(label)  # the server's words, not an assistant's stored ID
            result = self._payload_result(label, verdict, item, text, attempts, 200)
            result.fetched_at = fetched_at
            results.append(result)
        return results

    @staticmethod
    def _repeated_in_page(answer: Answer, texts: list[str], number: int) -> dict[int, tuple[str | int, ...]]:
        """The first key each listed assistant holds twice in one object (its path within the assistant), by the
        assistant's index; a key twice in the page's own members stops the run (:class:`PaginationError`).

        The items are stored as re-serialised text, which cannot hold a key twice: the page's text is what
        the server said. Its colons are counted against those of the items' texts and of the page's other
        members (:mod:`.decoding`), so only a page that may hold one is parsed again."""
        page = answer.json
        others = json.dumps({k: v for k, v in page.items() if k != "data"}, ensure_ascii=False, separators=(",", ":"))
        decoded = others.count(":") + 1 + sum(text.count(":") for text in texts)  # 1: the "data" member's
        if not may_repeat_a_key(answer.text, decoded):
            return {}
        found: dict[int, tuple[str | int, ...]] = {}
        for path in repeated_keys(answer.text):
            if len(path) >= 3 and path[0] == "data" and isinstance(path[1], int):
                found.setdefault(path[1], path[2:])
            else:
                raise PaginationError(
                    f"list page {number} holds the key {format_path(path)} twice in one object, and JSON parsers "
                    "disagree on which value counts, so its pagination cannot be trusted: the server's pagination "
                    "is broken, pass the IDs explicitly instead of --discover")
        return found

    # --- one request, with retries ------------------------------------------

    async def _get(self, path: str, params: dict[str, Any] | None, *, expected_id: str | None,
                   target: str, connect_budget: float | None = None) -> Attempted:
        """GET until the verdict is anything but "retry"; ``expected_id`` is ``None`` for the listing;
        ``connect_budget``: the seconds this request may spend failing to connect (the preflight's).

        Every decision (retry or not, how long to wait, when to give up) is :mod:`.verdicts`'s; tenacity
        runs the attempts, the waits (through the injectable ``sleep``) and the stop rule (:meth:`_retrying`),
        and :meth:`_attempt` sends, asks the verdict and counts. The first attempt is made directly: only a
        verdict of "retry" hands the request to tenacity, which takes that answer as its attempt 1, so an answer
        that needs no retry (nearly all of them) costs no loop set-up (about 40 µs of CPU a request).
        """
        started = time.monotonic()
        budget = connect_budget
        tries = _Tries()
        first = await self._attempt(path, params, expected_id, started, 1, budget, tries)
        if first.verdict.kind is not Kind.RETRY:  # the success path: no retry loop to set up (benchmarks/README.md)
            return first
        attempts = itertools.count(1)

        async def attempt() -> Attempted:
            number = next(attempts)
            return first if number == 1 else await self._attempt(path, params, expected_id, started, number,
                                                                  budget, tries)

        ended: Attempted = await self._retrying(target, listing=expected_id is None)(attempt)
        return ended

    def _retrying(self, target: str, *, listing: bool) -> AsyncRetrying:
        """The retry loop of one request: tenacity's, every decision the verdict's.

        ``retry``: the verdict is ``RETRY``; ``wait``: the verdict's wait (rule 3); ``stop``: rule 4's
        ``max_attempts`` (the verdict gives up on that attempt already, so this only backs it up and ends as its
        give-up would); the waits go through the client's ``sleep``; an exception an attempt raises (a
        cancellation, a Ctrl-C) is never retried and propagates as it is (``reraise``).
        """
        sleep = self._sleep
        return AsyncRetrying(
            sleep=lambda seconds: sleep(float(seconds)),
            retry=retry_if_result(_says_retry),
            wait=_verdict_wait,
            stop=stop_after_attempt(self._policy.max_attempts),
            before_sleep=self._before_sleep(target),
            retry_error_callback=lambda state: _out_of_attempts(state, listing),
            reraise=True,
        )

    async def _attempt(self, path: str, params: dict[str, Any] | None, expected_id: str | None,
                       started: float, attempt: int, connect_budget: float | None, tries: _Tries) -> Attempted:
        """Attempt ``attempt`` (1-based) and its verdict (a failure to get an answer is judged too, not raised).

        An Entra ID token the server refuses (verdict ``NEW_TOKEN``, once a request) is replaced and the attempt
        sent again at once: a new token is no retry, so it is neither counted, waited for nor logged as one.
        """
        while True:
            answer: Answer | None = None
            token = await self._tokens.atoken() if self._tokens is not None else None
            try:
                answer = await self._send(path, params, self._policy.id_deadline - (time.monotonic() - started),
                                          token, connect_budget)
                if expected_id is not None:
                    self._canonicalize(answer)
            except (httpx.TransportError, UnreadableResponse, RequestTimedOut) as failure:
                verdict = judge_failure(failure, listing=expected_id is None, attempt=attempt,
                                        elapsed=time.monotonic() - started, policy=self._policy,
                                        jitter=self._random(), connect_budget=connect_budget)
            else:
                verdict = judge(answer, expected_id=expected_id, attempt=attempt, elapsed=time.monotonic() - started,
                                policy=self._policy, jitter=self._random(), refreshed=tries.refreshed)
            if verdict.kind is Kind.NEW_TOKEN and self._tokens is not None and token is not None:
                tries.refreshed = True
                log.info("HTTP 401 for %s: getting a new Entra ID token and trying once more", path[:80])
                await self._tokens.arefresh_after(token)
                continue
            return Attempted(verdict, answer, attempt)

    def _before_sleep(self, target: str) -> Callable[[RetryCallState], None]:
        """What happens before each wait: the retry is logged and counted."""

        def note(state: RetryCallState) -> None:
            ended: Attempted = state.outcome.result()  # type: ignore[union-attr]  # set before any wait
            verdict, answer = ended.verdict, ended.answer
            if answer is not None and answer.status == 429:
                self.stats.rate_limited += 1
            error_type, message = self._failure_text(verdict, answer)
            log.info("retrying %s after attempt %d (%s: %s) in %.2fs", target[:80], ended.attempts, error_type,
                     self._clean(message)[:200], verdict.wait)
            self.stats.retries += 1
            self.stats.waited_seconds += verdict.wait
            self._waves.add(f"HTTP {answer.status}" if answer is not None else error_type, verdict.wait)

        return note

    async def _send(self, path: str, params: dict[str, Any] | None, left: float,
                    token: str | None = None, connect_budget: float | None = None) -> Answer:
        """One HTTP request, inside a place of the adaptive limit (when there is one); ``left``: the seconds the
        ID has left; ``token``: the Entra ID token to send (auth_style ``entra``); ``connect_budget``: the longest
        a connection may take, when shorter than ``connect_timeout``."""
        if self.limiter is None:
            await self._take_slot()
            return await self._request(path, params, left, token, connect_budget)
        permit = await self.limiter.acquire()
        answered = False
        status = 0
        try:
            await self._take_slot()
            answer = await self._request(path, params, left, token, connect_budget)
            answered, status = True, answer.status
            return answer
        except UnreadableResponse:
            answered = True
            raise
        finally:
            self.limiter.release(permit, rate_limited=status == 429, answered=answered)
            rule = self.limiter.rule
            if rule.decreases != self.stats.concurrency_decreases:
                self.stats.concurrency_decreases = rule.decreases
                self.stats.concurrency_limit_lowest = rule.lowest
                log.info("HTTP 429: requests in flight limited to %d (configured %d)", rule.limit, rule.maximum)

    async def _request(self, path: str, params: dict[str, Any] | None, left: float,
                       token: str | None = None, connect_budget: float | None = None) -> Answer:
        """One request within its wall-clock deadline: ``request_deadline``, or the ``left`` seconds of the ID's
        ``id_deadline`` when fewer. httpx's timeouts are per read, so without it a server that sends a byte now
        and then (in the headers or the body) holds the request, and the ID, for as long as it likes."""
        c = self.config
        limit, setting = (c.request_deadline, "request_deadline") if c.request_deadline <= left else \
            (max(left, 0.0), "id_deadline")
        try:
            async with asyncio.timeout(limit):
                return await self._read(path, params, token, connect_budget)
        except TimeoutError:
            what = (f"{_seconds(limit)} s ({setting})" if setting == "request_deadline" else
                    f"the {_seconds(limit)} s left of the ID's {_seconds(c.id_deadline)} s (id_deadline)")
            raise RequestTimedOut(f"no complete answer within {what}") from None

    async def _read(self, path: str, params: dict[str, Any] | None, token: str | None = None,
                    connect_budget: float | None = None) -> Answer:
        assert self._http is not None, "use AssistantsClient as an async context manager"
        self.stats.requests += 1
        cap = self.config.max_response_bytes
        timeout = self._http.timeout
        if connect_budget is not None and connect_budget < self.config.connect_timeout:
            timeout = httpx.Timeout(connect=connect_budget, read=timeout.read, write=timeout.write, pool=timeout.pool)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        async with self._http.stream("GET", path, params=params, headers=headers, timeout=timeout) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise ResponseTooLarge(f"response of {int(declared):,} bytes exceeds the {cap:,}-byte cap "
                                       "(max_response_bytes)")
            # The raw bytes, decoded here within the cap (httpx would inflate each chunk whole first). A response
            # an in-memory transport built with its body (httpx.MockTransport) was read, and decoded, by httpx.
            built = response.is_stream_consumed
            codings = [] if built else response.headers.get_list("content-encoding", split_commas=True)
            decoder = BodyDecoder(codings, cap)
            chunks: list[bytes] = []
            size = 0
            async for chunk in _one_chunk(response.content) if built else response.aiter_raw():
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLarge(f"response exceeds the {cap:,}-byte cap (max_response_bytes)")
                chunks.append(decoder.feed(chunk))
            chunks.append(decoder.finish())
        self.stats.status_counts[response.status_code] += 1
        return self._answer(response.status_code, response.headers, b"".join(chunks))

    @staticmethod
    def _answer(status: int, headers: httpx.Headers, data: bytes) -> Answer:
        """The answer of a decoded body: its text, parsed once."""
        text = data.decode("utf-8", errors="replace")
        watch = _FloatWatch()
        return Answer(status, headers, text, _parse_json(headers, text, watch), watch.overflow)

    @staticmethod
    def _canonicalize(answer: Answer) -> None:
        """For a retrieved object (a 200 whose body is a JSON object): its canonical text, which its content hash
        is made of, and the first key it holds twice in one object, if any (:mod:`.decoding`: counting colons
        in both texts rules that out for a few microseconds; only a body that may hold one is parsed again)."""
        if answer.status != 200 or not isinstance(answer.json, dict):
            return
        try:
            answer.canonical = canonical_json_normalized(answer.json)
        except (ValueError, RecursionError):  # NaN, or nested too deeply: judged invalid for that
            return
        if may_repeat_a_key(answer.text, answer.canonical.count(":")):
            answer.repeated = next(iter(repeated_keys(answer.text)), None)

    async def _take_slot(self) -> None:
        """Honour ``requests_per_minute`` by spacing request starts evenly."""
        if not self._spacing:
            return
        async with self._slot_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._spacing
        if slot > now:
            await self._sleep(slot - now)

    # --- turning verdicts into errors and results ----------------------------------------------

    def _stop_the_run(self, ended: Attempted, *, during: Literal["preflight", "list", "fetch"]) -> None:
        """Raise the whole-run error a verdict calls for; return quietly for any other verdict."""
        verdict, answer, c = ended.verdict, ended.answer, self.config
        if not verdict.kind.stops_the_run:
            return
        error_type, message = self._failure_text(verdict, answer)
        message = self._clean(message)
        status = answer.status if answer is not None else None
        if verdict.kind is Kind.UNAUTHORIZED and self._tokens is not None:
            what = "refused a fresh Entra ID token" if status == 401 else "denied access to the identity"
            raise AuthenticationError(
                f"the server {what} of {self._tokens.describe()} (HTTP {status}: {message[:200]}): give that "
                f"identity a role on the Foundry project at {c.api_root} (such as Azure AI User), and check "
                f"entra_scope ({c.entra_scope})"
            )
        if verdict.kind is Kind.UNAUTHORIZED:
            what = "refused the API key" if status == 401 else "denied access with the API key"
            raise AuthenticationError(
                f"the server {what} from ${c.api_key_env} (HTTP {status}: {message[:200]}): "
                f"set {c.api_key_env} to a valid key for {c.api_root}"
            )
        if verdict.rule == CONNECT_BUDGET_SPENT:
            url = httpx.URL(c.api_root)
            port = url.port or (443 if url.scheme == "https" else 80)
            raise EndpointUnreachableError(
                f"cannot connect to {url.host}:{port} ({message[:200]}) within "
                f"{_seconds(settings.PREFLIGHT_CONNECT_BUDGET)} s: check the base URL ({c.api_root}) and that the "
                "server is up"
            )
        if verdict.kind is Kind.UNREACHABLE and during == "preflight":
            raise EndpointUnreachableError(
                f"no usable answer from {c.api_root} after {c.max_attempts} attempts "
                f"({error_type}: {message[:200]}): check the base URL and that the server is up"
            )
        if verdict.kind is Kind.UNREACHABLE:
            raise EndpointUnreachableError(
                f"listing assistants failed after {c.max_attempts} attempts "
                f"({error_type}: {message[:200]}); nothing was written"
            )
        if verdict.rule == NOT_A_LIST:
            advice = ", or set preflight off if this server has no list endpoint" if during == "preflight" else ""
            raise EndpointGoneError(
                f"{c.api_root}/assistants answered HTTP {status} without an assistant list "
                f"({message[:200]}): check the base URL{advice}"
            )
        raise EndpointGoneError(
            f"{c.api_root} does not serve the Assistants API (HTTP {status}: {message[:160]}): check "
            "OPENAI_BASE_URL/--base-url and the auth style; OpenAI's hosted Assistants API was retired on 2026-08-26"
        )

    def _payload_result(self, assistant_id: str, verdict: Verdict, payload: Any, text: str, attempts: int,
                        status: int, canonical: str | None = None) -> FetchResult:
        """The result of a judged Assistant object: ``ok``, or ``invalid`` kept whole with its reasons.
        ``canonical``: the payload's canonical text when the caller made it already."""
        now = utcnow()
        if verdict.kind is Kind.INVALID:
            return FetchResult(assistant_id, Outcome.INVALID, now, attempts, status, "schema_invalid",
                               self._clean("; ".join(verdict.problems[:5])), self._clean(text))
        content_hash = content_hash_of_canonical(canonical if canonical is not None else
                                                 canonical_json_normalized(payload))
        return FetchResult(assistant_id, Outcome.OK, now, attempts, status, body=text, payload=payload,
                           content_hash=content_hash, unknown_fields=unknown_fields(payload, self.config.dialect))

    def _failure_text(self, verdict: Verdict, answer: Answer | None) -> tuple[str, str]:
        """``(error_type, message)``: the verdict's own words, else the server's error body."""
        if verdict.error_type is not None or answer is None:
            return verdict.error_type or verdict.rule, verdict.message or ""
        return self._error_text(answer)

    def _error_text(self, answer: Answer) -> tuple[str, str]:
        """``(error_type, message)`` from an API error body, or a description of a non-API body."""
        body = answer.json
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            error_type = error.get("type") or error.get("code") or f"http_{answer.status}"
            # A server's words end up in one-line places (fetch_errors.message, the CLI's error line):
            # whitespace runs, newlines included, become one space, and the length is capped -- after
            # redaction, so a cut can never leave the first half of a key behind.
            return (_one_line(self._clean(str(error_type)), 100),
                    _one_line(self._clean(str(error.get("message") or "")), MESSAGE_LIMIT))
        if body is HTML_BODY:
            return "html_response", "an HTML page instead of JSON"
        snippet = _one_line(self._clean(answer.text), 200)
        return f"http_{answer.status}", snippet or "empty body"

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def _clean_body(self, body: str | None) -> str | None:
        if body is None:
            return None
        return self._clean(body)[:ERROR_BODY_LIMIT]  # redact first: a cut must not leave half a key


class _RetryWaves:
    """Retries summed up a wave at a time: the first retry when no wave is open opens one, and
    :data:`WAVE_SECONDS` later one line on the :data:`RETRIES_LOGGER` logger says how many retries it held, why
    (statuses and failure kinds, never a server's words) and how long they wait::

        retrying 127.0.0.1:8080: 6 retries (HTTP 429 x5, timeout x1), waiting 0.4-2.0 s
    """

    def __init__(self, host: str) -> None:
        self._host = host
        self._reasons: Counter[str] = Counter()
        self._waits: list[float] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, reason: str, wait: float) -> None:
        self._reasons[reason] += 1
        self._waits.append(wait)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(WAVE_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the open wave's line, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waits:
            return
        count, shortest, longest = len(self._waits), min(self._waits), max(self._waits)
        why = ", ".join(f"{reason} x{n}" for reason, n in self._reasons.most_common())
        waits = f"{shortest:.1f} s" if f"{shortest:.1f}" == f"{longest:.1f}" else f"{shortest:.1f}-{longest:.1f} s"
        logging.getLogger(RETRIES_LOGGER).warning("retrying %s: %d %s (%s), waiting %s", self._host, count,
                                                  "retry" if count == 1 else "retries", why, waits)
        self._reasons.clear()
        self._waits.clear()


def _says_retry(ended: Attempted) -> bool:
    return ended.verdict.kind is Kind.RETRY


def _verdict_wait(state: RetryCallState) -> float:
    ended: Attempted = state.outcome.result()  # type: ignore[union-attr]  # set before any wait
    return ended.verdict.wait


def _out_of_attempts(state: RetryCallState, listing: bool) -> Attempted:
    """The stop rule fired on a verdict that still said retry: the give-up the verdict would have said."""
    ended: Attempted = state.outcome.result()  # type: ignore[union-attr]
    return Attempted(give_up(ended.verdict, listing), ended.answer, ended.attempts)


def _item_text(item: Any) -> str:
    """A listed assistant as stored: compact JSON of what was decoded, lone surrogates kept as escapes."""
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    if not encodable(text):  # keep lone surrogates as escapes so the body stays storable
        text = json.dumps(item, separators=(",", ":"))
    return text


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class _RedactingFilter(logging.Filter):
    """Redacts a log record of the HTTP libraries before any handler sees it: a server's status line and headers
    are theirs to quote, and a hostile server puts the key there too. Filters run only for records a logger's
    level lets through, so this costs nothing unless DEBUG or INFO logging of httpx/httpcore is on."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _FloatWatch:
    """A ``parse_float`` hook that normalises numbers and notes those too large for a double.

    An integral float becomes its int, exactly as :func:`~assistants_export.connectors.core.hashing.loads_normalized`
    does, so the one decode of a body is already in the canonical form the content hash and the
    flattened tables need: the fetch step never parses the body again. (JSON Schema calls ``1.0``
    an integer too, so validation is unchanged.) A number too large for a double parses to
    infinity and is noted. Called only for number tokens with a fraction or exponent, so it costs
    nothing measurable; a regular expression over the whole body to find them cost as much as
    parsing it.
    """

    __slots__ = ("overflow",)

    def __init__(self) -> None:
        self.overflow = False

    def __call__(self, token: str) -> float | int:
        value = float(token)
        if value.is_integer():
            return int(value)
        if value in (math.inf, -math.inf):
            self.overflow = True
        return value


def _parse_json(headers: httpx.Headers, text: str, watch: _FloatWatch | None = None) -> Any:
    """The parsed body, or a marker (:mod:`.verdicts`) for HTML, broken JSON and JSON nested too deeply."""
    content_type = headers.get("content-type", "")
    stripped = text.lstrip()
    if "html" in content_type or stripped[:1] == "<":
        return HTML_BODY
    if not stripped:
        return BROKEN_JSON
    try:
        return json.loads(text, parse_float=watch) if watch is not None else json.loads(text)
    except ValueError:
        return BROKEN_JSON
    except RecursionError:  # deterministic, not a transport fault: judged (quarantined), never retried
        return TOO_DEEP


def _seconds(seconds: float) -> str:
    """``120``, ``0.3``, ``1.25``: seconds as a message writes them."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]
