"""A generated catalog that evolves night by night, for growth benchmarks over many simulated nights.

Night 0 is exactly :class:`~assistants_export.sandbox.fixtures.GeneratedCatalog` ``(n, seed)``. From then on, each
night every live assistant changes with probability ``change_rate`` (new instructions, a metadata
value, a tool added or removed, another model, sampling parameters, description or response format),
is deleted with probability ``deletion_rate``, and about ``n * creation_rate`` new assistants appear
(both rates default to ``change_rate / 10``). Deleted assistants never come back.

Night ``k``'s catalog is a pure function of ``(seed, n, rates, k)``, cheap to reach from any other
night: each assistant draws its deletion night and the nights it changes from its own seeded RNG
(geometric gaps, so ``O(changes)`` per assistant, not ``O(nights)``), and its payload at version
``v`` is the night-0 payload with changes ``1..v`` applied, each drawn from an RNG seeded by
``(seed, assistant, v)``. A body built for one night is kept and advanced for the next, so serving
night after night costs one small change per changed assistant.

:meth:`EvolvingCatalog.set_night` (or :meth:`set_date`, with ``start`` as night 0) switches the
night served, atomically: a request sees one night's catalog, never a mix. The sandbox server
exposes it as ``POST /_control/date`` (see :mod:`assistants_export.sandbox.server`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistants_export.sandbox._content import (
    BUILT_IN_TOOLS,
    FUNCTIONS,
    GUIDELINES,
    METADATA_CHOICES,
    MODELS,
    Json,
    tool,
)
from assistants_export.sandbox.fixtures import (
    _GENERATED_DIGITS,
    _GENERATED_PREFIX,
    _RESPONSE_FORMATS,
    _generated_assistant,
    _OrderedCatalog,
    _Shared,
    serialize_body,
)

DEFAULT_START = dt.date(2026, 1, 1)
"""Night 0 when no start date is given."""
_NEVER = 1 << 40
"""A night after every night anyone will simulate: the event does not happen."""
_MAX_METADATA = 16
_SAMPLING: tuple[float | None, ...] = (0.0, 0.2, 0.5, 0.7, 1.0, None)
_CHANGE_KINDS: tuple[str, ...] = ("instructions", "metadata", "tools", "model", "sampling", "description",
                                  "response_format")
_CHANGE_WEIGHTS: tuple[int, ...] = (30, 25, 20, 10, 7, 4, 4)
_METADATA_EDITS: tuple[str, ...] = ("reviewed_at", "revision", "ticket", "owner", "prompt_version")


def _geometric(rng: random.Random, rate: float) -> int:
    """Nights until the next event of a daily Bernoulli(rate) process (at least 1)."""
    if rate <= 0:
        return _NEVER
    if rate >= 1:
        return 1
    return 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - rate))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth below 30, a rounded normal above): how many assistants appear in a night."""
    if mean <= 0:
        return 0
    if mean < 30:
        limit, count, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
        return count
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


@dataclass
class _Life:
    """One assistant's events: born on ``birth``, gone from ``death`` on, changed on each night of ``changes``.

    Change nights are drawn in order from the assistant's own RNG, only as far as asked, so the
    answer for a night never depends on which nights were asked about before.
    """

    birth: int
    death: int
    rate: float
    rng: random.Random
    next_change: int = 0
    changes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next_change = self.birth + _geometric(self.rng, self.rate)

    def version(self, night: int) -> int:
        """How many times the assistant has changed by ``night`` (its payload's version)."""
        while self.next_change <= night and self.next_change < self.death:
            self.changes.append(self.next_change)
            self.next_change += _geometric(self.rng, self.rate)
        return bisect.bisect_right(self.changes, night)


@dataclass(frozen=True)
class NightSummary:
    """What happened between the night before and this one (night 0: every assistant is created)."""

    night: int
    live: int
    created: int
    deleted: int
    changed: int
    unchanged: int


class _NightView(_OrderedCatalog):
    """One night's catalog: the live assistants in (created_at, id) order, each at its version that night."""

    def __init__(self, owner: EvolvingCatalog, night: int, live: list[int]) -> None:
        self._owner = owner
        self.night = night
        self._live = live

    def __len__(self) -> int:
        return len(self._live)

    def _id_at(self, index: int) -> str:
        return _assistant_id(self._live[index])

    def _index_of(self, assistant_id: str) -> int:
        number = _number_of(assistant_id)
        position = bisect.bisect_left(self._live, number)
        if position == len(self._live) or self._live[position] != number:
            raise KeyError(assistant_id)
        return position

    def _body_at(self, index: int) -> bytes:
        return self._owner.body(self._live[index], self.night)


def _assistant_id(number: int) -> str:
    return f"{_GENERATED_PREFIX}{number:0{_GENERATED_DIGITS}d}"


def _number_of(assistant_id: str) -> int:
    digits = assistant_id.removeprefix(_GENERATED_PREFIX)
    if digits == assistant_id or len(digits) != _GENERATED_DIGITS or not (digits.isascii() and digits.isdigit()):
        raise KeyError(assistant_id)
    return int(digits)


class EvolvingCatalog:
    """``n`` generated assistants that change, disappear and appear night after night (see the module doc).

    Serves one night at a time (night 0 = ``start``); :meth:`set_night` / :meth:`set_date` switch it.
    """

    def __init__(self, n: int, change_rate: float, *, seed: int = 0, deletion_rate: float | None = None,
                 creation_rate: float | None = None, start: dt.date = DEFAULT_START, night: int = 0) -> None:
        rates = {"change_rate": change_rate, "deletion_rate": deletion_rate, "creation_rate": creation_rate}
        for name, rate in rates.items():
            if rate is not None and not 0 <= rate <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if n < 0 or n >= 10**(_GENERATED_DIGITS - 1):
            raise ValueError(f"n must be between 0 and 10**{_GENERATED_DIGITS - 1} - 1, got {n}")
        self.n = n
        self.seed = seed
        self.change_rate = change_rate
        self.deletion_rate = change_rate / 10 if deletion_rate is None else deletion_rate
        self.creation_rate = change_rate / 10 if creation_rate is None else creation_rate
        self.start = start
        self._shared = _Shared.make(random.Random(f"shared:{seed}"), vector_stores=40, files=400)
        self._created_by: list[int] = [n]
        """Assistants created up to and including each night: numbers below it exist or existed."""
        self._lives: list[_Life] = []
        self._bodies: dict[int, tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        self._view = self._night_view(night)

    # The night served.

    @property
    def night(self) -> int:
        return self._view.night

    @property
    def date(self) -> dt.date:
        return self.start + dt.timedelta(days=self._view.night)

    def night_of(self, date: dt.date) -> int:
        """The night ``date`` is; ValueError before ``start``."""
        night = (date - self.start).days
        if night < 0:
            raise ValueError(f"{date} is before the catalog's first night ({self.start})")
        return night

    def set_night(self, night: int) -> None:
        """Serve ``night`` from now on (requests already answering finish with the night they began with)."""
        if night < 0:
            raise ValueError(f"night must not be negative, got {night}")
        self._view = self._night_view(night)

    def set_date(self, date: dt.date) -> None:
        self.set_night(self.night_of(date))

    # Catalog protocol: the night served.

    def get(self, assistant_id: str) -> bytes | None:
        return self._view.get(assistant_id)

    def page(self, *, limit: int, order: str, after: str | None,
             before: str | None) -> tuple[list[bytes], str | None, str | None, bool]:
        return self._view.page(limit=limit, order=order, after=after, before=before)

    def ids(self) -> Iterator[str]:
        return self._view.ids()

    def __len__(self) -> int:
        return len(self._view)

    # Any night, without switching.

    def live(self, night: int) -> list[str]:
        """The IDs of the assistants that exist on ``night``, oldest first."""
        with self._lock:
            return [_assistant_id(number) for number in self._live_numbers(night)]

    def deleted_between(self, first: int, last: int) -> list[str]:
        """IDs of the assistants deleted on a night from ``first`` to ``last`` (both included), oldest first."""
        with self._lock:
            self._extend_to(last)
            return [_assistant_id(number) for number in range(self._created_by[last])
                    if first <= self._life(number).death <= last]

    def summary(self, night: int) -> NightSummary:
        """Creations, deletions and changes of ``night`` against the night before."""
        with self._lock:
            self._extend_to(night)
            created = deleted = changed = unchanged = live = 0
            for number in range(self._created_by[night]):
                life = self._life(number)
                if life.death == night:
                    deleted += 1
                elif life.birth == night:
                    created += 1
                elif life.death > night:
                    if life.version(night) != life.version(night - 1):
                        changed += 1
                    else:
                        unchanged += 1
                live += life.birth <= night < life.death
            return NightSummary(night, live, created, deleted, changed, unchanged)

    def version(self, assistant_id: str, night: int) -> int | None:
        """The assistant's version on ``night`` (0 = as created), or None when it does not exist then."""
        number = _number_of(assistant_id)
        with self._lock:
            self._extend_to(night)
            if number >= self._created_by[night]:
                return None
            life = self._life(number)
            return life.version(night) if life.birth <= night < life.death else None

    def build(self, assistant_id: str, night: int) -> Json | None:
        """The assistant as served on ``night`` (a fresh object), or None when it does not exist then."""
        number = _number_of(assistant_id)
        if self.version(assistant_id, night) is None:
            return None
        body: Json = json.loads(self.body(number, night))
        return body

    def body(self, number: int, night: int) -> bytes:
        """The served bytes of assistant ``number`` on ``night`` (which must be a night it exists).

        The last body served per assistant is kept (bytes only, a few KB each) and advanced by the
        changes since, so each night costs one change per changed assistant.
        """
        with self._lock:
            self._extend_to(night)
            version = self._life(number).version(night)
            cached = self._bodies.get(number)
        if cached is not None and cached[0] == version:
            return cached[1]
        if cached is None or cached[0] > version:
            assistant = _generated_assistant(self.seed, number, _assistant_id(number), self._shared)
            done, assistant = 0, json.loads(serialize_body(assistant))  # a private copy: tools are shared objects
        else:
            done, assistant = cached[0], json.loads(cached[1])
        for step in range(done + 1, version + 1):
            _change(assistant, random.Random(f"change:{self.seed}:{number}:{step}"), step)
        body = serialize_body(assistant)
        with self._lock:
            self._bodies[number] = (version, body)
        return body

    # Internals (called with the lock held, except from __init__ and set_night, which take it).

    def _night_view(self, night: int) -> _NightView:
        with self._lock:
            return _NightView(self, night, self._live_numbers(night))

    def _live_numbers(self, night: int) -> list[int]:
        self._extend_to(night)
        return [number for number in range(self._created_by[night])
                if self._life(number).birth <= night < self._life(number).death]

    def _extend_to(self, night: int) -> None:
        while len(self._created_by) <= night:
            k = len(self._created_by)
            appeared = _poisson(random.Random(f"create:{self.seed}:{k}"), self.n * self.creation_rate)
            self._created_by.append(self._created_by[-1] + appeared)
        if self._created_by[night] >= 10**_GENERATED_DIGITS:
            raise ValueError("too many assistants for the ID format")

    def _life(self, number: int) -> _Life:
        while len(self._lives) <= number:
            made = len(self._lives)
            birth = bisect.bisect_right(self._created_by, made)
            if birth >= len(self._created_by):
                raise IndexError(number)
            rng = random.Random(f"life:{self.seed}:{made}")
            self._lives.append(_Life(birth, birth + _geometric(rng, self.deletion_rate), self.change_rate, rng))
        return self._lives[number]


# --- Changes ---------------------------------------------------------------------------------------


def _change(assistant: Json, rng: random.Random, version: int) -> None:
    """Apply change number ``version``: always a real change of the configuration (its content hash)."""
    kind = rng.choices(_CHANGE_KINDS, weights=_CHANGE_WEIGHTS)[0]
    if kind == "instructions":
        _change_instructions(assistant, rng, version)
    elif kind == "metadata":
        _change_metadata(assistant, rng, version)
    elif kind == "tools":
        _change_tools(assistant, rng)
    elif kind == "model":
        assistant["model"] = rng.choice([m for m in MODELS if m != assistant.get("model")])
    elif kind == "sampling":
        assistant["temperature"] = rng.choice([t for t in _SAMPLING if t != assistant.get("temperature")])
    elif kind == "description":
        assistant["description"] = f"{rng.choice(GUIDELINES)} (revision {version})"
    else:
        current = assistant.get("response_format")
        choices = [f for f in _RESPONSE_FORMATS if f != current]
        assistant["response_format"] = json.loads(json.dumps(rng.choice(choices)))


def _change_instructions(assistant: Json, rng: random.Random, version: int) -> None:
    """Rewrite one sentence, as people edit prompts: most of the text stays."""
    sentences = (assistant.get("instructions") or "").split(". ")
    new = f"Revision {version}: {rng.choice(GUIDELINES)}".rstrip(".")
    if len(sentences) > 2 and rng.random() < 0.8:
        sentences[rng.randrange(len(sentences))] = new
    else:
        sentences.append(new)
    assistant["instructions"] = ". ".join(sentences)[:256_000]


def _change_metadata(assistant: Json, rng: random.Random, version: int) -> None:
    metadata = assistant.get("metadata") or {}
    if metadata and (len(metadata) >= _MAX_METADATA or rng.random() < 0.2):
        del metadata[rng.choice(sorted(metadata))]
    elif rng.random() < 0.5:
        key, values = rng.choice(METADATA_CHOICES)
        choices = [value for value in values if value != metadata.get(key)]
        metadata[key] = rng.choice(choices)
    else:
        metadata[rng.choice(_METADATA_EDITS)] = f"r{version}-{rng.randrange(10**6):06d}"
    assistant["metadata"] = metadata


def _change_tools(assistant: Json, rng: random.Random) -> None:
    tools: list[Json] = list(assistant.get("tools") or [])
    present = {item.get("function", {}).get("name") or item["type"] for item in tools}
    absent = [name for name in (*BUILT_IN_TOOLS, *FUNCTIONS) if name not in present]
    if tools and (len(tools) >= 6 or not absent or rng.random() < 0.4):
        removed = tools.pop(rng.randrange(len(tools)))
        resources = assistant.get("tool_resources")
        if isinstance(resources, dict) and removed["type"] in BUILT_IN_TOOLS:
            resources.pop(removed["type"], None)
    else:
        tools.insert(rng.randrange(len(tools) + 1), json.loads(json.dumps(tool(rng.choice(absent)))))
    assistant["tools"] = tools
