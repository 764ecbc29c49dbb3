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
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay

from . import settings
from .concurrency import AdaptiveLimit
from .config import ClientConfig
from .errors import (
    AuthenticationError,
    ConnectorError,
    EndpointGoneError,
    EndpointUnreachableError,
    redact,
)
from .pagination import CursorPaginator
from .results import FetchResult, Outcome
from .retry import RetryableAnswer, WaitServerOrBackoff, describe_failure, is_retryable, should_retry_status
from .validation import nesting_problem, unknown_fields, validate_assistant

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024
"""Error bodies (HTML pages included) are kept up to this size; invalid 200 bodies are kept whole."""

MESSAGE_LIMIT = 1000
"""A server's error message is kept up to this many characters in messages (the body keeps it whole)."""

USER_AGENT = "assistants-export/0.1"

Sleep = Callable[[float], Awaitable[None]]


class ResponseTooLarge(Exception):
    """The body exceeded ``max_response_bytes``; not retried."""


class GaveUp(Exception):
    """Retries ran out (or the failure was not retryable); ``last`` is the final attempt's error."""

    def __init__(self, last: BaseException, attempts: int) -> None:
        super().__init__(str(last))
        self.last = last
        self.attempts = attempts


@dataclass(slots=True)
class Answer:
    """One HTTP answer, read whole (within the size cap)."""

    status: int
    headers: httpx.Headers
    text: str
    json: Any = None
    overflow: bool = False
    """A number in the body was too large for a double and parsed to infinity (``1e400``)."""


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
                 sleep: Sleep = asyncio.sleep, adaptive_concurrency: bool = True) -> None:
        """``adaptive_concurrency=False`` keeps ``concurrency`` fixed even under 429s (benchmarks compare both)."""
        self.config = config
        self.stats = ClientStats(concurrency_limit_lowest=config.concurrency)
        self.limiter = AdaptiveLimit(config.concurrency) if adaptive_concurrency else None
        self._transport = transport
        self._sleep = sleep
        self._http: httpx.AsyncClient | None = None
        self._secrets = config.secrets()
        self._not_found = re.compile(config.not_found_pattern)
        self._spacing = 60.0 / config.requests_per_minute if config.requests_per_minute else 0.0
        self._next_slot = 0.0
        self._slot_lock = asyncio.Lock()
        self._wait = WaitServerOrBackoff(initial=config.initial_retry_delay, maximum=config.max_retry_delay,
                                         retry_after_cap=config.retry_after_cap)

    async def __aenter__(self) -> AssistantsClient:
        c = self.config
        self._http = httpx.AsyncClient(
            base_url=c.api_root,
            headers=self._headers(),
            params={"api-version": c.api_version} if c.auth_style == "azure" else None,
            timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
            limits=httpx.Limits(max_connections=c.concurrency, max_keepalive_connections=c.concurrency),
            transport=self._transport,
            follow_redirects=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _headers(self) -> dict[str, str]:
        c = self.config
        name, value = settings.ASSISTANTS_BETA_HEADER
        headers = {name: value, "User-Agent": USER_AGENT, "Accept": "application/json"}
        if c.auth_style == "azure":
            headers["api-key"] = c.api_key.reveal()
        else:
            headers["Authorization"] = f"Bearer {c.api_key.reveal()}"
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
        try:
            answer, _ = await self._get("/assistants", {"limit": 1}, target="preflight")
        except GaveUp as exc:
            error_type, message = _failure_text(exc.last)
            raise EndpointUnreachableError(
                f"no usable answer from {self.config.api_root} after {self.config.max_attempts} attempts "
                f"({error_type}: {self._clean(message)[:200]}): check the base URL and that the server is up"
            ) from None
        self._raise_for_run(answer, listing=True)
        if answer.status != 200 or not _is_list_page(answer.json):
            raise EndpointGoneError(
                f"{self.config.api_root}/assistants answered HTTP {answer.status} "
                f"without an assistant list ({self._error_text(answer)[1][:200]}): "
                "check the base URL, or set preflight off if this server has no list endpoint"
            )

    async def retrieve(self, assistant_id: str) -> FetchResult:
        """Fetch one assistant; every outcome but a run-level one becomes a :class:`FetchResult`."""
        path = "/assistants/" + quote(assistant_id, safe="")
        started = utcnow()
        try:
            answer, attempts = await self._get(path, None, target=assistant_id)
        except GaveUp as exc:
            last = exc.last
            error_type, message = _failure_text(last)
            status = last.status if isinstance(last, RetryableAnswer) else None
            body = last.body if isinstance(last, RetryableAnswer) else None
            return FetchResult(assistant_id, Outcome.FAILED, started, exc.attempts, status,
                               error_type, self._clean(message), self._clean_body(body))
        self._raise_for_run(answer, listing=False)
        if answer.status == 200:
            return self._judge_payload(assistant_id, answer.json, answer.text, attempts, answer.status,
                                       overflow=answer.overflow)
        error_type, message = self._error_text(answer)
        outcome = Outcome.NOT_FOUND if answer.status == 404 else Outcome.FAILED
        return FetchResult(assistant_id, outcome, started, attempts, answer.status, error_type,
                           self._clean(message), self._clean_body(answer.text))

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

        Pages are followed through ``after=last_id`` until ``has_more`` is false;
        a cursor that does not move raises :class:`PaginationError`. An object
        seen on an earlier page (the list shifted under us) is skipped.
        """
        paginator = CursorPaginator(limit=settings.LIST_PAGE_LIMIT)
        seen: set[str] = set()
        params: dict[str, Any] | None = paginator.first_params()
        while params is not None:
            fetched_at = utcnow()
            try:
                answer, attempts = await self._get("/assistants", params, target="list")
            except GaveUp as exc:
                error_type, message = _failure_text(exc.last)
                raise EndpointUnreachableError(
                    f"listing assistants failed after {self.config.max_attempts} attempts "
                    f"({error_type}: {self._clean(message)[:200]}); nothing was written"
                ) from None
            self._raise_for_run(answer, listing=True)
            if answer.status != 200 or not _is_list_page(answer.json):
                raise EndpointGoneError(
                    f"{self.config.api_root}/assistants answered HTTP {answer.status} without an assistant "
                    f"list ({self._error_text(answer)[1][:200]}): check the base URL"
                )
            page = answer.json
            results = []
            for item in page["data"]:
                item_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(item_id, str) and item_id in seen:
                    continue
                label = item_id if isinstance(item_id, str) else f"list-item-{len(seen)}"
                seen.add(label)
                text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                if not _encodable(text):  # keep lone surrogates as escapes so the body stays storable
                    text = json.dumps(item, separators=(",", ":"))
                result = self._judge_payload(label, item, text, attempts, 200)
                result.fetched_at = fetched_at
                results.append(result)
            yield results
            params = paginator.next_params(page)

    # --- one request, with retries ------------------------------------------

    async def _get(self, path: str, params: dict[str, Any] | None, *, target: str) -> tuple[Answer, int]:
        """GET with the retry policy; returns the final answer and how many attempts it took.

        Raises :class:`GaveUp` (wrapping the last error and the attempt count)
        when retries run out or the error is not retryable (a too-large body).

        The first attempt is made directly: setting up tenacity cost about 0.24 ms
        per call, an eighth of a whole request on loopback, and almost every request
        succeeds at once. Only a retryable failure hands over to :meth:`_retry`.
        """
        started = time.monotonic()
        try:
            answer = await self._send(path, params)
            self._raise_if_retryable(answer)
        except (RetryableAnswer, httpx.TransportError) as first:
            return await self._retry(path, params, target, first, time.monotonic() - started)
        except ResponseTooLarge as exc:
            raise GaveUp(exc, 1) from exc
        return answer, 1

    async def _retry(self, path: str, params: dict[str, Any] | None, target: str, first: Exception,
                     elapsed: float) -> tuple[Answer, int]:
        """Attempts 2 and later, with tenacity; its attempt 1 replays the failure already seen.

        Replaying ``first`` lets tenacity count attempts, choose the wait (the
        failure's Retry-After or backoff), log and stop exactly as if it had made
        the first attempt itself; the ID's deadline is shortened by the time that
        attempt took.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            wait=self._wait,
            stop=stop_after_attempt(self.config.max_attempts)
            | stop_before_delay(max(self.config.id_deadline - elapsed, 0.0)),
            sleep=self._sleep_and_count,
            reraise=True,
            before_sleep=lambda state: self._log_retry(target, state.attempt_number, state),
        )
        replay: list[Exception] = [first]
        attempts = 1
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if replay:
                        raise replay.pop()
                    answer = await self._send(path, params)
                    self._raise_if_retryable(answer)
        except (RetryableAnswer, httpx.TransportError, ResponseTooLarge) as exc:
            raise GaveUp(exc, attempts) from exc
        return answer, attempts

    async def _send(self, path: str, params: dict[str, Any] | None) -> Answer:
        """One HTTP request, inside a place of the adaptive limit (when there is one)."""
        if self.limiter is None:
            await self._take_slot()
            return await self._request(path, params)
        permit = await self.limiter.acquire()
        answered = False
        status = 0
        try:
            await self._take_slot()
            answer = await self._request(path, params)
            answered, status = True, answer.status
            return answer
        except ResponseTooLarge:
            answered = True
            raise
        finally:
            self.limiter.release(permit, rate_limited=status == 429, answered=answered)
            rule = self.limiter.rule
            if rule.decreases != self.stats.concurrency_decreases:
                self.stats.concurrency_decreases = rule.decreases
                self.stats.concurrency_limit_lowest = rule.lowest
                log.info("HTTP 429: requests in flight limited to %d (configured %d)", rule.limit, rule.maximum)

    async def _request(self, path: str, params: dict[str, Any] | None) -> Answer:
        assert self._http is not None, "use AssistantsClient as an async context manager"
        self.stats.requests += 1
        cap = self.config.max_response_bytes
        async with self._http.stream("GET", path, params=params) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise ResponseTooLarge(f"response of {int(declared):,} bytes exceeds the {cap:,}-byte cap "
                                       "(max_response_bytes)")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLarge(f"response exceeds the {cap:,}-byte cap (max_response_bytes)")
                chunks.append(chunk)
        self.stats.status_counts[response.status_code] += 1
        text = b"".join(chunks).decode("utf-8", errors="replace")
        watch = _FloatWatch()
        return Answer(response.status_code, response.headers, text, _parse_json(response.headers, text, watch),
                      watch.overflow)

    def _raise_if_retryable(self, answer: Answer) -> None:
        """Turn an answer that deserves another try into a :class:`RetryableAnswer`."""
        if answer.status == 200:
            if answer.json is _HTML:
                raise RetryableAnswer(200, answer.headers, "html_response",
                                      "answered 200 with an HTML page instead of JSON (a proxy or gateway?)",
                                      answer.text)
            if answer.json is _BROKEN:
                raise RetryableAnswer(200, answer.headers, "malformed_json",
                                      "answered 200 with a truncated or malformed JSON body", answer.text)
            return
        if answer.status >= 400 and should_retry_status(answer.status, answer.headers):
            error_type, message = self._error_text(answer)
            raise RetryableAnswer(answer.status, answer.headers, error_type, message, answer.text)

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

    async def _sleep_and_count(self, seconds: float) -> None:
        self.stats.retries += 1
        self.stats.waited_seconds += seconds
        await self._sleep(seconds)

    def _log_retry(self, target: str, attempt_number: int, state: Any) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableAnswer) and exc.status == 429:
            self.stats.rate_limited += 1
        error_type, message = describe_failure(exc) if exc else ("unknown", "")
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying %s after attempt %d (%s: %s) in %.2fs", target[:80], attempt_number,
                 error_type, self._clean(message)[:200], wait)

    # --- judging answers ----------------------------------------------------

    def _raise_for_run(self, answer: Answer, *, listing: bool) -> None:
        """Raise for answers that mean every other request will fail the same way."""
        status = answer.status
        if status in (401, 403):
            _, message = self._error_text(answer)
            what = "refused the API key" if status == 401 else "denied access with the API key"
            raise AuthenticationError(
                f"the server {what} from ${self.config.api_key_env} (HTTP {status}: "
                f"{self._clean(message)[:200]}): set {self.config.api_key_env} to a valid key for "
                f"{self.config.api_root}"
            )
        gone = status in (404, 410) and (listing or not self._is_not_found(answer))
        if gone or 300 <= status < 400 or (status == 200 and answer.json is _HTML and listing):
            _, message = self._error_text(answer)
            raise EndpointGoneError(
                f"{self.config.api_root} does not serve the Assistants API (HTTP {status}: "
                f"{self._clean(message)[:160]}): check OPENAI_BASE_URL/--base-url and the auth style; "
                "OpenAI's hosted Assistants API was retired on 2026-08-26"
            )

    def _is_not_found(self, answer: Answer) -> bool:
        if answer.status != 404 or not isinstance(answer.json, dict):
            return False
        error = answer.json.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        return isinstance(message, str) and bool(self._not_found.search(message))

    def _judge_payload(self, assistant_id: str, payload: Any, text: str, attempts: int,
                       status: int, *, overflow: bool = False) -> FetchResult:
        now = utcnow()
        problems = _too_deep(payload, text) or validate_assistant(payload) or _unstorable(payload, text, overflow)
        if not problems and payload.get("id") != assistant_id:
            problems = [f"id: the answer is for {str(payload.get('id'))[:80]!r}, not the ID asked for"]
        if problems:
            return FetchResult(assistant_id, Outcome.INVALID, now, attempts, status, "schema_invalid",
                               self._clean("; ".join(problems[:5])), self._clean(text))
        return FetchResult(assistant_id, Outcome.OK, now, attempts, status, body=text, payload=payload,
                           unknown_fields=unknown_fields(payload))

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
        if body is _HTML:
            return "html_response", "an HTML page instead of JSON"
        snippet = _one_line(self._clean(answer.text), 200)
        return f"http_{answer.status}", snippet or "empty body"

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def _clean_body(self, body: str | None) -> str | None:
        if body is None:
            return None
        return self._clean(body)[:ERROR_BODY_LIMIT]  # redact first: a cut must not leave half a key


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_HTML = _Marker("<html body>")
_BROKEN = _Marker("<malformed json>")
_TOO_DEEP = _Marker("<json nested too deeply to parse>")


class _FloatWatch:
    """A ``parse_float`` hook that notes numbers too large for a double (they parse to infinity).

    Called only for number tokens with a fraction or exponent, so it costs nothing
    measurable; a regular expression over the whole body to find them cost as much
    as parsing it.
    """

    __slots__ = ("overflow",)

    def __init__(self) -> None:
        self.overflow = False

    def __call__(self, token: str) -> float:
        value = float(token)
        if value in (math.inf, -math.inf):
            self.overflow = True
        return value


def _parse_json(headers: httpx.Headers, text: str, watch: _FloatWatch | None = None) -> Any:
    """The parsed body, or a marker for HTML and for broken JSON (both are retried on a 200)."""
    content_type = headers.get("content-type", "")
    stripped = text.lstrip()
    if "html" in content_type or stripped[:1] == "<":
        return _HTML
    if not stripped:
        return _BROKEN
    try:
        return json.loads(text, parse_float=watch) if watch is not None else json.loads(text)
    except ValueError:
        return _BROKEN
    except RecursionError:  # deterministic, not a transport fault: judged (quarantined), never retried
        return _TOO_DEEP


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _failure_text(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ResponseTooLarge):
        return "response_too_large", str(exc)
    return describe_failure(exc)


_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _too_deep(payload: Any, text: str) -> list[str]:
    """Nesting that would crash the recursive steps downstream; checked before anything walks the payload."""
    if payload is _TOO_DEEP:
        return ["$: nested too deeply to parse"]
    problem = nesting_problem(payload, text)
    return [problem] if problem else []


def _unstorable(payload: Any, text: str, overflow: bool = False) -> list[str]:
    """Problems JSON parsers let through but that cannot be stored faithfully.

    Python's ``json`` accepts ``NaN``/``Infinity`` (not JSON at all), turns numbers
    too large for a double into infinity (``overflow``, noted while parsing), and
    accepts unpaired surrogate escapes (JSON, but not Unicode text). Substring tests
    run at C speed and only a hit pays for the full walk; regular expressions over
    the body cost as much as parsing it (benchmarks/README.md).
    """
    if (overflow or "NaN" in text or "Infinity" in text) and not _finite(payload):
        return ["$: a number is NaN or Infinity (or too large for a double), which JSON does not allow"]
    if "\\u" in text and _LONE_SURROGATE_ESCAPE.search(text) and not _encodable(payload):
        return ["$: a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not Unicode text"]
    return []


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _encodable(value: Any) -> bool:
    """Whether every string in ``value`` can be written as UTF-8 (JSON allows unpaired surrogate escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_encodable(v) for v in value)
    return True


def _is_list_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list) and "has_more" in body
