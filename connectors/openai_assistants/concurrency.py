"""Adaptive concurrency: fewer requests in flight while the server answers 429, more again slowly.

A fixed concurrency answers a storm of 429s with a storm of retries: every
worker waits its Retry-After and comes back at the same time, and the server
rejects most of them again. :class:`AdaptiveLimit` runs the rule TCP uses for
congestion (additive increase, multiplicative decrease):

* a 429 halves the number of requests allowed in flight (never below 1);
* after :data:`ROUNDS_PER_INCREASE` times the current limit successful answers
  (that many "rounds" of requests) the limit grows by 1, never above the
  configured concurrency. Growing slowly keeps the 429s few: against a server
  that allows 4 in flight, the limit saw-tooths 2-3-4-5 and meets one 429 per
  tooth, where a fixed concurrency of 16 meets one on most requests.

A burst of 429s from requests that were all sent before the limit last went
down counts as one signal, not as one halving each: every permit remembers the
limit's *epoch* when it was taken, and only a 429 on a permit of the current
epoch lowers the limit again. Without that rule, eight requests rejected
together would take the limit from 8 to 1 at once.

The limit only gates when a request may *start*; the retry rules are not
touched. An ID that got a 429 still waits its Retry-After (or its backoff) with
no permit held, then queues for a permit like any other request.

:class:`AimdRule` is the arithmetic alone (synchronous, no clock, easy to test);
:class:`AdaptiveLimit` is the asyncio gate built on it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

DECREASE_FACTOR = 0.5
"""A 429 multiplies the limit by this (rounded down, at least 1)."""

ROUNDS_PER_INCREASE = 4
"""The limit grows by 1 after this many times ``limit`` successes since it last changed."""


@dataclass
class AimdRule:
    """The limit and how answers move it; ``maximum`` is the configured concurrency."""

    maximum: int
    minimum: int = 1
    decrease_factor: float = DECREASE_FACTOR
    rounds_per_increase: int = ROUNDS_PER_INCREASE
    limit: int = 0
    """Requests allowed in flight now; starts at ``maximum``."""
    epoch: int = 0
    """Bumped on every decrease, so a burst of 429s from one round lowers the limit once."""
    successes: int = 0
    """Successful answers since the limit last changed."""
    decreases: int = 0
    increases: int = 0
    lowest: int = 0
    """The lowest limit reached, for the logs and the benchmark."""
    history: list[int] = field(default_factory=list)
    """Every limit taken after a change, oldest first (bounded by the number of changes)."""

    def __post_init__(self) -> None:
        if self.maximum < 1 or not 1 <= self.minimum <= self.maximum:
            raise ValueError(f"need 1 <= minimum <= maximum, got minimum={self.minimum}, maximum={self.maximum}")
        if not 0 < self.decrease_factor < 1:
            raise ValueError(f"decrease_factor must be between 0 and 1, got {self.decrease_factor}")
        if self.rounds_per_increase < 1:
            raise ValueError(f"rounds_per_increase must be at least 1, got {self.rounds_per_increase}")
        self.limit = self.limit or self.maximum
        self.lowest = self.limit

    def on_rate_limited(self, epoch: int) -> bool:
        """A 429 answered a request sent in ``epoch``; returns whether the limit went down."""
        if epoch != self.epoch:
            return False  # sent before the last decrease: that decrease already answered this burst
        self.epoch += 1
        self.successes = 0
        lowered = max(self.minimum, int(self.limit * self.decrease_factor))
        if lowered == self.limit:
            return False
        self.limit = lowered
        self.decreases += 1
        self.lowest = min(self.lowest, lowered)
        self.history.append(lowered)
        return True

    def on_success(self) -> bool:
        """Any answer but a 429 (errors included: they say nothing about the rate); returns whether it grew."""
        if self.limit >= self.maximum:
            return False
        self.successes += 1
        if self.successes < self.limit * self.rounds_per_increase:
            return False
        self.successes = 0
        self.limit += 1
        self.increases += 1
        self.history.append(self.limit)
        return True


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to send one request; hand it back with :meth:`AdaptiveLimit.release`."""

    epoch: int


class AdaptiveLimit:
    """An asyncio gate with a limit that :class:`AimdRule` moves; waiters are served first come, first served.

    Single event loop only (no locks needed): every method runs on the loop's thread.
    """

    def __init__(self, maximum: int, *, minimum: int = 1, decrease_factor: float = DECREASE_FACTOR,
                 rounds_per_increase: int = ROUNDS_PER_INCREASE) -> None:
        self.rule = AimdRule(maximum, minimum, decrease_factor, rounds_per_increase)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        return self.rule.limit

    async def acquire(self) -> Permit:
        """Wait until fewer than ``limit`` requests are in flight, then take a place."""
        if self.in_flight < self.rule.limit and not self._waiters:
            self.in_flight += 1
            return Permit(self.rule.epoch)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # _wake takes the place for us before it wakes us
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # given a place, but cancelled before using it: pass it on
                self._wake()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        return Permit(self.rule.epoch)

    def release(self, permit: Permit, *, rate_limited: bool = False, answered: bool = True) -> None:
        """Give the place back and tell the rule how the request went.

        ``answered=False`` (a connection error, a timeout) moves nothing: it says
        nothing about the server's rate limit.
        """
        self.in_flight -= 1
        if rate_limited:
            self.rule.on_rate_limited(permit.epoch)
        elif answered:
            self.rule.on_success()
        self._wake()

    def _wake(self) -> None:
        """Hand free places to the oldest waiters, taking each place on the waiter's behalf."""
        while self.in_flight < self.rule.limit and self._waiters:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self.in_flight += 1
            waiter.set_result(None)
