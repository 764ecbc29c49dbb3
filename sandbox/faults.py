"""Deterministic fault injection for the sandbox server.

Whether a request fails is decided from (assistant ID, attempt number) alone, never from
timing or a shared random stream, so a test that runs with concurrency 1 or 64 sees the
same faults for the same IDs, and a failure can be replayed exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Fault(StrEnum):
    """How one answer misbehaves; see :mod:`assistants_export.sandbox.server` for what goes on the wire."""

    RATE_LIMIT = "rate_limit"
    """429 with ``retry-after: <seconds>``."""
    RATE_LIMIT_MS = "rate_limit_ms"
    """429 with only ``retry-after-ms: <milliseconds>``."""
    SERVER_ERROR = "server_error"
    """500 with an OpenAI error body."""
    BAD_GATEWAY = "bad_gateway"
    """502, as the API's edge proxy answers."""
    UNAVAILABLE = "unavailable"
    """503, server overloaded."""
    NO_RETRY = "no_retry"
    """500 with ``x-should-retry: false``, which tells clients not to retry."""
    RESET = "reset"
    """TCP reset instead of an answer."""
    HANG = "hang"
    """The normal answer, after ``hang_seconds``: for client read timeouts."""
    TRUNCATED = "truncated"
    """200 announcing the full Content-Length, but only half the body before the connection closes."""
    HTML = "html"
    """200 with a ``text/html`` proxy error page instead of JSON."""
    INVALID = "invalid"
    """200 with the object minus ``model``: schema-invalid, on every attempt."""
    ALWAYS_FAIL = "always_fail"
    """500 on every attempt."""


PERSISTENT_FAULTS = frozenset({Fault.INVALID, Fault.ALWAYS_FAIL})
"""Faults that, once chosen for an ID, apply to every attempt rather than only the first."""

DEFAULT_KINDS: tuple[Fault, ...] = (
    Fault.RATE_LIMIT,
    Fault.SERVER_ERROR,
    Fault.BAD_GATEWAY,
    Fault.UNAVAILABLE,
    Fault.RESET,
)
"""Transient faults a well-behaved client must retry through."""


@dataclass(frozen=True)
class FaultPlan:
    """Which requests for ``GET /assistants/{id}`` fail, and how.

    Precedence for an ID: ``invalid_ids``, then ``always_fail_ids``, then ``scripted``
    (index 0 = attempt 1, None = answer normally, attempts beyond the list succeed),
    then ``rate``: that share of IDs, chosen by a stable hash of (seed, ID), gets one of
    ``kinds`` on its first attempt (on every attempt if the kind is persistent).
    """

    rate: float = 0.0
    kinds: tuple[Fault, ...] = DEFAULT_KINDS
    seed: int = 0
    scripted: dict[str, list[Fault | None]] = field(default_factory=dict)
    always_fail_ids: frozenset[str] = frozenset()
    invalid_ids: frozenset[str] = frozenset()
    retry_after_seconds: float = 1
    retry_after_ms: int = 300
    hang_seconds: float = 5

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        if self.rate > 0 and not self.kinds:
            raise ValueError("a positive rate needs at least one fault kind")
        if min(self.retry_after_seconds, self.retry_after_ms, self.hang_seconds) < 0:
            raise ValueError("retry_after_seconds, retry_after_ms and hang_seconds must not be negative")

    def fault_for(self, assistant_id: str, attempt: int) -> Fault | None:
        """The fault for the ``attempt``-th request (1-based) for ``assistant_id``, or None."""
        if assistant_id in self.invalid_ids:
            return Fault.INVALID
        if assistant_id in self.always_fail_ids:
            return Fault.ALWAYS_FAIL
        if assistant_id in self.scripted:
            script = self.scripted[assistant_id]
            return script[attempt - 1] if attempt <= len(script) else None
        kind = self.rate_fault(assistant_id)
        if kind is not None and (attempt == 1 or kind in PERSISTENT_FAULTS):
            return kind
        return None

    def rate_fault(self, assistant_id: str) -> Fault | None:
        """The kind ``rate`` assigns to ``assistant_id``, or None when the ID is not among the faulted share.

        SHA-256 rather than ``hash()``, which is salted per process and would make runs unrepeatable.
        """
        if self.rate <= 0:
            return None
        digest = hashlib.sha256(f"{self.seed}:{assistant_id}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
            return None
        return self.kinds[int.from_bytes(digest[8:16], "big") % len(self.kinds)]

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """A plan from the CLI's compact form, e.g. ``rate=0.33,kinds=rate_limit+server_error+reset,seed=7``.

        Keys: ``rate``, ``kinds``, ``seed``, ``retry_after`` (seconds), ``retry_after_ms``,
        ``hang`` (seconds), ``always_fail`` and ``invalid`` (IDs); lists are joined with ``+``.
        """
        fields: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, sep, value = (part.strip() for part in item.partition("="))
            if not sep or key not in _PARSERS:
                raise ValueError(f"bad fault option {item!r}; expected key=value with key in {sorted(_PARSERS)}")
            field_name, convert = _PARSERS[key]
            fields[field_name] = convert(value)
        return cls(**fields)


def _items(value: str) -> list[str]:
    return [item for item in value.split("+") if item]


def _kinds(value: str) -> tuple[Fault, ...]:
    try:
        return tuple(Fault(item) for item in _items(value))
    except ValueError:
        raise ValueError(f"unknown fault kind in {value!r}; known: {[kind.value for kind in Fault]}") from None


def _ids(value: str) -> frozenset[str]:
    return frozenset(_items(value))


_PARSERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "rate": ("rate", float),
    "kinds": ("kinds", _kinds),
    "seed": ("seed", int),
    "retry_after": ("retry_after_seconds", float),
    "retry_after_ms": ("retry_after_ms", int),
    "hang": ("hang_seconds", float),
    "always_fail": ("always_fail_ids", _ids),
    "invalid": ("invalid_ids", _ids),
}
"""CLI key -> (FaultPlan field, converter)."""
