"""Assistant fixtures and the catalogs the sandbox server serves them from.

The bundled fixtures are hand-steered so that, together, they exercise every shape the
Assistants API can return (each tool and response-format variant, null versus absent
fields, boundary lengths, hostile metadata). They are generated from a fixed seed so
every run, machine and test sees byte-identical data.

:class:`GeneratedCatalog` produces large catalogs (hundreds of thousands of assistants)
lazily from the index alone, so benchmarks do not pay for building objects they never
request.
"""

from __future__ import annotations

import copy
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from assistants_export.sandbox._content import (
    BUILT_IN_TOOLS,
    FUNCTIONS,
    MODELS,
    PERSONAS,
    Json,
    Persona,
    build_instructions,
    exact_length_text,
    handbook_instructions,
    many_function_tools,
    random_id,
    small_metadata,
    tool,
)

FIRST_CREATED_AT = 1_699_228_800
"""2023-11-06T00:00:00Z, the day the Assistants API was announced."""
LAST_CREATED_AT = 1_787_184_000
"""2026-08-20T00:00:00Z, shortly before the API's sunset."""

BUNDLED_COUNT = 64
MAX_INSTRUCTIONS_LENGTH = 256_000
MAX_TOOLS = 128

_BUNDLED_SEED = 20231106
_INVALID_SEED = 20260826
_GENERATED_SPACING = 300
"""Seconds between consecutive generated assistants; jitter stays below it so created_at strictly increases."""


def serialize_body(obj: object) -> bytes:
    """The exact bytes the sandbox serves for ``obj``: compact, UTF-8, non-ASCII kept as is (as the API does)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- Shared building blocks -------------------------------------------------


@dataclass(frozen=True)
class _Shared:
    """Vector stores and files attached by several assistants, as real projects share them."""

    vector_stores: tuple[str, ...]
    files: tuple[str, ...]

    @classmethod
    def make(cls, rng: random.Random, *, vector_stores: int, files: int) -> _Shared:
        return cls(
            vector_stores=tuple(random_id(rng, "vs_") for _ in range(vector_stores)),
            files=tuple(random_id(rng, "file-") for _ in range(files)),
        )


_RESPONSE_FORMATS: tuple[object, ...] = (
    "auto",
    "auto",
    "auto",
    None,
    {"type": "text"},
    {"type": "json_object"},
    {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
                "required": ["answer", "confidence"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    },
)
_TEMPERATURES: tuple[float | None, ...] = (1.0, 1.0, 0.7, 0.2, 0.5, 0.0, None)
_TOP_PS: tuple[float | None, ...] = (1.0, 1.0, 0.9, 0.95, None)


def _tool_resources_for(rng: random.Random, tools: list[Json], shared: _Shared) -> Json:
    """Resources matching the tools, as the API stores them ({} when no tool needs any)."""
    types = {item["type"] for item in tools}
    resources: Json = {}
    if "code_interpreter" in types:
        resources["code_interpreter"] = {"file_ids": rng.sample(shared.files, rng.randint(0, 3))}
    if "file_search" in types:
        resources["file_search"] = {"vector_store_ids": [rng.choice(shared.vector_stores)]}
    return resources


@dataclass(frozen=True)
class _Draft:
    """What varies between the bundled and the generated assistants before the shared shaping."""

    assistant_id: str
    created_at: int
    persona: Persona
    tools: list[Json]
    instructions_length: int


def _assistant(rng: random.Random, draft: _Draft, shared: _Shared) -> Json:
    """A realistic assistant in the API's own field order; callers vary it from there.

    Tools and response formats are shared objects, not copies; see :func:`assistants_export.sandbox._content.tool`.
    """
    persona = draft.persona
    return {
        "id": draft.assistant_id,
        "object": "assistant",
        "created_at": draft.created_at,
        "name": persona.name,
        "description": persona.description if rng.random() < 0.8 else None,
        "model": persona.model,
        "instructions": build_instructions(rng, persona.instructions, draft.instructions_length),
        "tools": draft.tools,
        "tool_resources": _tool_resources_for(rng, draft.tools, shared),
        "metadata": small_metadata(rng, rng.randint(0, 5)),
        "top_p": rng.choice(_TOP_PS),
        "temperature": rng.choice(_TEMPERATURES),
        "response_format": rng.choice(_RESPONSE_FORMATS),
    }


# --- Bundled fixtures ------------------------------------------------------------

_Variant = Callable[[Json, _Shared], None]


def _keep(assistant: Json, shared: _Shared) -> None:
    """The persona's own shape, unchanged: most real assistants are unremarkable."""


def _set(**fields: Any) -> _Variant:
    """A variant overwriting top-level fields (bundled_assistants() copies the result, so sharing is safe)."""

    def apply(assistant: Json, shared: _Shared) -> None:
        assistant.update(fields)

    return apply


def _drop(field_name: str) -> _Variant:
    """A variant removing a field, because absent and null are different shapes."""

    def apply(assistant: Json, shared: _Shared) -> None:
        del assistant[field_name]

    return apply


def _resources(*, files: int | None = None, store: int | None = None, tools: tuple[str, ...] = ()) -> _Variant:
    """A variant attaching the first ``files`` shared files and/or shared vector store ``store``.

    Taking prefixes of the shared pools makes several assistants reference the same files and stores.
    """

    def apply(assistant: Json, shared: _Shared) -> None:
        resources: Json = {}
        if files is not None:
            resources["code_interpreter"] = {"file_ids": list(shared.files[:files])}
        if store is not None:
            resources["file_search"] = {"vector_store_ids": [shared.vector_stores[store]]}
        assistant["tools"] = [tool(name) for name in tools]
        assistant["tool_resources"] = resources

    return apply


def _json_schema_format(**json_schema: Any) -> Json:
    return {"type": "json_schema", "json_schema": {"name": "support_reply", **json_schema}}


_REPLY_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "reply": {"type": "string"},
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "follow_ups": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["reply", "sentiment", "follow_ups"],
    "additionalProperties": False,
}

_SIXTEEN_KEYS: dict[str, str] = {
    "team": "support",
    "owner": "maria.garcia@example.com",
    "cost_center": "CC-4410",
    "environment": "production",
    "region": "eu-west-1",
    "version": "3.2.1",
    "ticket": "OPS-1182",
    "reviewed": "true",
    "language": "en",
    "tier": "enterprise",
    "managed_by": "terraform",
    "slack_channel": "#support-bots",
    "pii": "none",
    "sla_hours": "4",
    exact_length_text("k_boundary_", 64): "a key of exactly 64 characters",
    "notes": exact_length_text("A value of exactly 512 characters. ", 512),
}

_UNICODE_METADATA: dict[str, str] = {
    "チーム": "カスタマーサポート",
    "owner": "José Müller-Łukasiewicz",
    "עדיפות": "גבוהה",
    "部署": "数据平台",
    "emoji_🔥": "🚀✨👩‍💻",
}

_HOSTILE_METADATA: dict[str, str] = {
    "quotes": 'He said "ship it" and \'left\' — then `rm` "\\"escaped\\""',
    "sql": "'; DROP TABLE assistants; --",
    "multiline": "line one\nline two\r\nline three\n",
    "tabs_and_backslashes": "C:\\new\\table\tcolumn",
    "html": "<script>alert('x')</script>",
    "emoji": "🧑🏽‍🚀 👨‍👩‍👧‍👦 🏳️‍🌈",
    "empty": "",
}

_VARIANTS: tuple[_Variant, ...] = (
    # Tools.
    _set(tools=[tool("code_interpreter")]),
    _set(tools=[tool("file_search")]),
    _set(tools=[{"type": "file_search", "file_search": {"max_num_results": 8}}]),
    _set(
        tools=[{"type": "file_search", "file_search": {"ranking_options": {"ranker": "auto", "score_threshold": 0.5}}}]
    ),
    _set(
        tools=[
            {
                "type": "file_search",
                "file_search": {
                    "max_num_results": 50,
                    "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0},
                },
            }
        ]
    ),
    _set(
        tools=[
            {"type": "file_search", "file_search": {"max_num_results": 1, "ranking_options": {"score_threshold": 1.0}}}
        ]
    ),
    _set(tools=[tool("escalate_to_human")]),
    _set(tools=[tool("get_service_status"), tool("lookup_employee")]),
    _set(tools=[tool("create_support_ticket"), tool("submit_grade")]),
    _set(tools=[tool("get_weather"), tool("run_sql_query"), tool("get_order_status")]),
    _set(tools=[tool("code_interpreter"), tool("file_search"), tool("search_knowledge_base"), tool("refund_payment")]),
    _set(tools=[]),
    _set(tools=[tool("code_interpreter"), tool("file_search"), *many_function_tools(MAX_TOOLS - 2)]),
    # Response formats.
    _set(response_format="auto"),
    _set(response_format=None),
    _drop("response_format"),
    _set(response_format={"type": "text"}),
    _set(response_format={"type": "json_object"}),
    _set(response_format=_json_schema_format()),
    _set(response_format=_json_schema_format(description="A reply plus sentiment.", schema=_REPLY_SCHEMA, strict=True)),
    _set(response_format=_json_schema_format(schema=_REPLY_SCHEMA, strict=False)),
    _set(response_format=_json_schema_format(description="Free-form reply object.", schema={}, strict=None)),
    # Metadata.
    _set(metadata={}),
    _set(metadata=None),
    _set(metadata=_SIXTEEN_KEYS),
    _set(metadata=_UNICODE_METADATA),
    _set(metadata=_HOSTILE_METADATA),
    # Tool resources.
    _drop("tool_resources"),
    _set(tool_resources=None),
    _set(tool_resources={}),
    _resources(files=0, tools=("code_interpreter",)),
    _resources(files=20, tools=("code_interpreter",)),
    _resources(files=7, tools=("code_interpreter", "get_stock_level")),
    _resources(files=3, store=0, tools=("code_interpreter", "file_search")),
    _resources(store=0, tools=("file_search",)),
    _resources(store=1, tools=("file_search", "search_knowledge_base")),
    _resources(store=1, tools=("file_search",)),
    _set(tool_resources={"file_search": {"vector_store_ids": []}}),
    # Nullable text fields and their boundaries.
    _set(name=None),
    _set(description=None),
    _set(instructions=None),
    _set(name=None, description=None, instructions=None, tools=[], metadata={}),
    _set(
        name=exact_length_text("Boundary Name ", 256),
        description=exact_length_text("A description of exactly the maximum length. ", 512),
    ),
    _set(instructions=handbook_instructions(MAX_INSTRUCTIONS_LENGTH)),
    _set(instructions=""),
    # Sampling parameters: null, ints and floats that serialise differently.
    _set(temperature=None, top_p=None),
    _set(temperature=0.2, top_p=1),
    _set(temperature=1, top_p=1.0),
    _set(temperature=1.0, top_p=0.95),
    _set(temperature=2, top_p=0),
    _set(temperature=0, top_p=0.1),
    # Unicode text.
    _set(
        name="客服助手（电商）",
        description="处理订单、退货和物流查询的中文客服助手。",
        instructions="你是一家电商平台的客服助手。请用简体中文回答，语气礼貌、简洁。遇到超过500元的退款请求时，请转交人工客服。",
    ),
    _set(
        name="日本語会話チューター",
        instructions="あなたは初級から中級の学習者向けの日本語会話チューターです。ひらがなとローマ字を併記し、間違いは優しく訂正してください。",
    ),
    _set(
        name="مساعد خدمة العملاء",
        description="يجيب على أسئلة العملاء حول الفواتير والاشتراكات.",
        instructions=(
            "أنت مساعد خدمة عملاء لشركة اتصالات. أجب باللغة العربية الفصحى وبأسلوب مهذب، واطلب رقم الحساب قبل أي إجراء."
        ),
    ),
    _set(
        name="עוזר משאבי אנוש",
        instructions=(
            "אתה עוזר משאבי אנוש. ענה בעברית על שאלות לגבי חופשות, הטבות ונהלים, וציין תמיד את הסעיף הרלוונטי בתקנון."
        ),
    ),
    _set(
        name="🚀 Launch Buddy ✨",
        description="Plans product launches 🎉 with the growth team.",
        instructions=(
            "You help the growth team plan product launches 🚀. "
            "Use at most two emoji per reply 🙂 and flag risks with ⚠️."
        ),
    ),
    _set(
        name="Zoë's Café Naïve-Bayes Coach",
        instructions="Explain naïve Bayes to café owners in plain words, à la carte.",
    ),
    # Forward compatibility: a field this API version does not document.
    _set(reasoning_effort="low"),
)


def _persona_draft(rng: random.Random, created_at: int) -> _Draft:
    """A hand-sized assistant: a random persona with exactly its own tools."""
    persona = rng.choice(PERSONAS)
    tools = [tool(name) for name in persona.tools]
    return _Draft(random_id(rng, "asst_"), created_at, persona, tools, rng.randint(200, 1200))


def _increasing_timestamps(rng: random.Random, count: int) -> list[int]:
    """``count`` distinct creation times between the API launch and its last days, ascending."""
    return sorted(rng.sample(range(FIRST_CREATED_AT, LAST_CREATED_AT + 1), count))


def bundled_assistants() -> list[Json]:
    """The 64 bundled assistants, oldest first; a fresh deep structure on every call.

    Each entry of ``_VARIANTS`` shapes exactly one assistant, so the shapes that must occur
    exactly once (the 256,000-character instructions, the 128 tools) do.
    """
    rng = random.Random(_BUNDLED_SEED)
    shared = _Shared.make(rng, vector_stores=4, files=24)
    variants = [*_VARIANTS, *[_keep] * (BUNDLED_COUNT - len(_VARIANTS))]
    rng.shuffle(variants)
    assistants = []
    for created_at, variant in zip(_increasing_timestamps(rng, BUNDLED_COUNT), variants, strict=True):
        assistant = _assistant(rng, _persona_draft(rng, created_at), shared)
        variant(assistant, shared)
        assistants.append(assistant)
    # Tools are shared building blocks; a copy keeps callers' edits out of later calls.
    return copy.deepcopy(assistants)


# --- Invalid bodies ---------------------------------------------------------------

_DEFECTS: dict[str, _Variant] = {
    "missing model": _drop("model"),
    "tools not a list": _set(tools={"type": "code_interpreter"}),
    "temperature above 2": _set(temperature=3.5),
    "object is not assistant": _set(object="thread"),
    "129 tools": _set(tools=[tool("code_interpreter"), *many_function_tools(MAX_TOOLS)]),
    "created_at not an integer": _set(created_at="2024-05-01T12:00:00Z"),
    "name longer than 256": _set(name=exact_length_text("Overlong Name ", 257)),
    "two vector stores": _set(
        tools=[tool("file_search")],
        tool_resources={"file_search": {"vector_store_ids": ["vs_abc123", "vs_def456"]}},
    ),
}


def invalid_assistants() -> dict[str, object]:
    """Schema-invalid bodies keyed by the assistant ID they are served under, for quarantine tests.

    Each dict body has one defect (named by ``_DEFECTS``) and carries its key as ``id``;
    one body is a JSON array, because a broken server can return any JSON at all.
    """
    rng = random.Random(_INVALID_SEED)
    shared = _Shared.make(rng, vector_stores=1, files=3)
    bodies: dict[str, object] = {}
    for defect in _DEFECTS.values():
        created_at = rng.randint(FIRST_CREATED_AT, LAST_CREATED_AT)
        assistant = _assistant(rng, _persona_draft(rng, created_at), shared)
        defect(assistant, shared)
        bodies[assistant["id"]] = assistant
    bodies[random_id(rng, "asst_")] = ["not", "an", "object"]
    return copy.deepcopy(bodies)


# --- Catalogs ---------------------------------------------------------------------


class Catalog(Protocol):
    """What the server serves from: pre-serialised bodies, ordered by (created_at, id)."""

    def get(self, assistant_id: str) -> bytes | None:
        """The JSON body served for ``assistant_id``, or None when there is no such assistant."""
        ...

    def page(
        self, *, limit: int, order: str, after: str | None, before: str | None
    ) -> tuple[list[bytes], str | None, str | None, bool]:
        """One list page: (bodies, first_id, last_id, has_more); KeyError for an unknown cursor ID."""
        ...

    def ids(self) -> Iterator[str]:
        """Every assistant ID, oldest first."""
        ...

    def __len__(self) -> int: ...


def _window(total: int, limit: int, after: int | None, before: int | None) -> tuple[range, bool]:
    """Positions (in list order) of the page between the cursors, and whether more remain.

    ``after`` pages forward from the cursor; ``before`` alone returns the ``limit`` items
    immediately preceding it (Stripe/OpenAI semantics), and ``has_more`` then says that
    still earlier items exist.
    """
    start = 0 if after is None else after + 1
    end = total if before is None else max(before, start)
    if before is not None and after is None:
        chosen = range(max(start, end - limit), end)
    else:
        chosen = range(start, min(end, start + limit))
    return chosen, end - start > limit


class _OrderedCatalog(ABC):
    """Paging over assistants indexed 0..len-1 in ascending (created_at, id) order."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _id_at(self, index: int) -> str: ...

    @abstractmethod
    def _index_of(self, assistant_id: str) -> int:
        """The index of ``assistant_id``; KeyError(assistant_id) when it is not in the catalog."""

    @abstractmethod
    def _body_at(self, index: int) -> bytes: ...

    def get(self, assistant_id: str) -> bytes | None:
        try:
            index = self._index_of(assistant_id)
        except KeyError:
            return None
        return self._body_at(index)

    def ids(self) -> Iterator[str]:
        return (self._id_at(index) for index in range(len(self)))

    def page(
        self, *, limit: int, order: str, after: str | None, before: str | None
    ) -> tuple[list[bytes], str | None, str | None, bool]:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")
        total = len(self)

        def index(position: int) -> int:
            return total - 1 - position if order == "desc" else position

        def position(cursor: str | None) -> int | None:
            # index() is its own inverse, so it also maps an index to its list position.
            return None if cursor is None else index(self._index_of(cursor))

        chosen, has_more = _window(total, limit, position(after), position(before))
        indexes = [index(p) for p in chosen]
        if not indexes:
            return [], None, None, False
        return [self._body_at(i) for i in indexes], self._id_at(indexes[0]), self._id_at(indexes[-1]), has_more


def _sort_key(assistant_id: str, body: object) -> tuple[int, str]:
    """Order by (created_at, id); a body without an integer created_at sorts as created at 0."""
    created_at = body.get("created_at") if isinstance(body, Mapping) else None
    if isinstance(created_at, int) and not isinstance(created_at, bool):
        return created_at, assistant_id
    return 0, assistant_id


def _keyed(objects: Iterable[Mapping[str, Any]] | Mapping[str, object]) -> dict[str, object]:
    if isinstance(objects, Mapping):
        return dict(objects)
    keyed: dict[str, object] = {}
    for obj in objects:
        assistant_id = obj.get("id")
        if not isinstance(assistant_id, str):
            raise ValueError(f"every assistant needs a string 'id', got {assistant_id!r}")
        if assistant_id in keyed:
            raise ValueError(f"duplicate assistant id {assistant_id!r}")
        keyed[assistant_id] = obj
    return keyed


class StaticCatalog(_OrderedCatalog):
    """A fixed set of bodies, serialised once up front so serving costs no JSON encoding.

    Accepts assistant dicts (keyed by their ``id``) or a mapping ID -> body, which serves
    any body (an invalid object, a JSON array, or raw ``bytes`` sent verbatim) under that ID.
    """

    def __init__(self, objects: Iterable[Mapping[str, Any]] | Mapping[str, object]) -> None:
        keyed = _keyed(objects)
        self._ids = sorted(keyed, key=lambda assistant_id: _sort_key(assistant_id, keyed[assistant_id]))
        self._positions = {assistant_id: index for index, assistant_id in enumerate(self._ids)}
        self._bodies = [_as_bytes(keyed[assistant_id]) for assistant_id in self._ids]

    def __len__(self) -> int:
        return len(self._ids)

    def _id_at(self, index: int) -> str:
        return self._ids[index]

    def _index_of(self, assistant_id: str) -> int:
        return self._positions[assistant_id]

    def _body_at(self, index: int) -> bytes:
        return self._bodies[index]


def _as_bytes(body: object) -> bytes:
    return body if isinstance(body, bytes) else serialize_body(body)


_GENERATED_PREFIX = "asst_gen"
_GENERATED_DIGITS = 21
"""``asst_`` is followed by 24 characters, like real IDs: ``gen`` plus the zero-padded index."""


class GeneratedCatalog(_OrderedCatalog):
    """``n`` realistic assistants derived from their index alone, built only when requested.

    The ID encodes the index and created_at grows strictly with it, so lookups and pages
    cost O(limit) whatever ``n`` is, and nothing is held in memory per assistant.
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        if n < 0 or n >= 10**_GENERATED_DIGITS:
            raise ValueError(f"n must be between 0 and 10**{_GENERATED_DIGITS} - 1, got {n}")
        self._n = n
        self._seed = seed
        self._shared = _Shared.make(random.Random(f"shared:{seed}"), vector_stores=40, files=400)

    def __len__(self) -> int:
        return self._n

    def build(self, index: int) -> Json:
        """The assistant at ``index`` (0 = oldest) as served: a fresh object, same on every call and machine."""
        if not 0 <= index < self._n:
            raise IndexError(index)
        body: Json = json.loads(self._body_at(index))
        return body

    def _id_at(self, index: int) -> str:
        return f"{_GENERATED_PREFIX}{index:0{_GENERATED_DIGITS}d}"

    def _index_of(self, assistant_id: str) -> int:
        digits = assistant_id.removeprefix(_GENERATED_PREFIX)
        if (
            digits == assistant_id
            or len(digits) != _GENERATED_DIGITS
            or not (digits.isascii() and digits.isdigit())
            or int(digits) >= self._n
        ):
            raise KeyError(assistant_id)
        return int(digits)

    def _body_at(self, index: int) -> bytes:
        return serialize_body(_generated_assistant(self._seed, index, self._id_at(index), self._shared))


_GENERATED_TOOL_COUNTS = (0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6)
"""Weighted like real projects: most assistants have one to three tools."""


def _generated_tools(rng: random.Random, persona: Persona) -> list[Json]:
    """0-6 tools: the persona's own first, then others, each tool type or function at most once."""
    others = [name for name in (*BUILT_IN_TOOLS, *FUNCTIONS) if name not in persona.tools]
    rng.shuffle(others)
    names = [*persona.tools, *others][: rng.choice(_GENERATED_TOOL_COUNTS)]
    return [tool(name) for name in names]


def _generated_assistant(seed: int, index: int, assistant_id: str, shared: _Shared) -> Json:
    # A string seed is hashed with SHA-512 by random.Random, so it is stable across processes.
    rng = random.Random(f"{seed}:{index}")
    persona = rng.choice(PERSONAS)
    # The jitter stays below the spacing, so created_at strictly increases with the index.
    created_at = FIRST_CREATED_AT + index * _GENERATED_SPACING + rng.randrange(_GENERATED_SPACING)
    draft = _Draft(assistant_id, created_at, persona, _generated_tools(rng, persona), rng.randint(200, 3000))
    assistant = _assistant(rng, draft, shared)
    if rng.random() < 0.1:
        assistant["model"] = rng.choice(MODELS)
    if rng.random() < 0.15:
        assistant["tool_resources"] = rng.choice((None, {}))
    return assistant
