"""When to retry and how long to wait, as small tenacity strategies.

The rules follow the official OpenAI SDK (``_base_client._should_retry`` and
``_parse_retry_after_header``):

1. The server's ``x-should-retry: true|false`` wins over everything else.
2. Otherwise 408, 409, 429 and every 5xx are retried, as are connection
   errors, timeouts and bodies that arrive broken (a truncated JSON, an HTML
   proxy page in place of JSON).
3. The wait is the server's ``retry-after-ms``, else ``retry-after`` (seconds or
   an HTTP date), obeyed exactly when it is positive and at most the cap.
   Otherwise exponential backoff: 0.5 s doubling to 8 s, minus up to 25 %
   jitter so that many clients do not retry in step. A ``Retry-After: 0`` is
   not positive and therefore gets backoff, never a tight loop (dlt #4036).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping

import httpx
from tenacity import RetryCallState

from . import settings


class RetryableAnswer(Exception):
    """An HTTP answer that should be tried again; carries what is needed to wait and report."""

    def __init__(self, status: int, headers: Mapping[str, str], error_type: str, message: str,
                 body: str | None = None) -> None:
        super().__init__(f"HTTP {status} {error_type}: {message}")
        self.status = status
        self.headers = headers
        self.error_type = error_type
        self.message = message
        self.body = body


def should_retry_status(status: int, headers: Mapping[str, str]) -> bool:
    """The SDK's ladder for an HTTP status: the server's header first, then the status."""
    verdict = headers.get("x-should-retry", "").strip().lower()
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in settings.RETRYABLE_STATUS or status >= 500


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed attempt may be tried again."""
    return isinstance(exc, RetryableAnswer | httpx.TransportError)


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait, or ``None`` when it did not say (or said nonsense).

    ``retry-after-ms`` (float milliseconds) is read first, then ``retry-after``
    as float seconds or an HTTP date. The result may be zero or negative; the
    caller decides what to do with that.
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
    return when.timestamp() - now()


class WaitServerOrBackoff:
    """A tenacity ``wait``: the server's Retry-After when sane, else exponential backoff with jitter."""

    def __init__(self, *, initial: float, maximum: float, retry_after_cap: float,
                 rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.retry_after_cap = retry_after_cap
        self._random = (rng or random.Random()).random

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableAnswer):
            asked = parse_retry_after(exc.headers)
            if asked is not None and 0 < asked <= self.retry_after_cap:
                return asked
        return self.backoff(state.attempt_number)

    def backoff(self, attempt_number: int) -> float:
        """Delay after failed attempt ``attempt_number`` (1-based): 0.5, 1, 2, 4, 8, 8... less jitter."""
        delay = min(self.initial * 2.0 ** (attempt_number - 1), self.maximum)
        return delay * (1.0 - 0.25 * self._random())


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """``(error_type, message)`` for a failed attempt, for logs and the ``fetch_errors`` table."""
    if isinstance(exc, RetryableAnswer):
        return exc.error_type, exc.message
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"{type(exc).__name__}: no answer within the timeout"
    if isinstance(exc, httpx.TransportError):
        return "connection_error", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return type(exc).__name__, str(exc)
