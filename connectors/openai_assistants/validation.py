"""Check a ``GET /assistants/{id}`` body against the AssistantObject schema.

Hand-written rather than run through ``jsonschema`` for two reasons: it is over a
hundred times faster (every exported assistant goes through it), and its messages say
what to fix (``tools: 129 items, at most 128 allowed``) instead of dumping a schema path.

It accepts exactly what ``schema/assistant_object.schema.json`` accepts, no more and no
less; ``tests/connectors/test_validation.py`` cross-checks the two on generated and
mutated objects. Consequences worth knowing:

* limits the API reference only *describes* (16 metadata pairs, 64-character keys,
  512-character values, the function-name character set) are not enforced;
* JSON Schema types are used: ``true`` is not a number, ``1.0`` is an integer;
* ``NaN`` (accepted by Python's ``json`` module, not by JSON itself) compares false
  with every bound, so, as with ``jsonschema``, it passes ``minimum``/``maximum``.

What is checked comes from the one model of the Assistant,
:data:`assistants_export.connectors.core.assistant_model.ASSISTANT`: each node of it (a string with a
length limit, a bounded number, a tagged union of objects...) is compiled once, at import,
into a full check that writes the message and a quick test. A scalar's quick test
accepts only the common valid value (``value.__class__ is str`` and the length within the
limit) and costs one call; a container's runs its members' quick tests (a tool goes by its
``type`` straight to its kind's test) and builds no path. The whole body is first given to
the assistant's quick test, so a valid body is checked without a path or a message; only
when a quick test fails does the full check run, and that decides -- a quick test may send
a valid value to it (``1.0`` for an integer), never the reverse.

Why not pydantic or msgspec (numbers per body in README "Layout" and in the commit that
made this change): both were measured on the sandbox's bundled and invalid assistants.
pydantic v2 (strict models with custom integer and bound validators) was about three times
slower than these checks and words problems in its own terms (``Input should be a valid
integer`` twice for one wrong value, union branch names in paths); msgspec was as fast, but
reports only the first problem, rejects ``1.0`` for an integer and ``NaN`` at a bound (the
schema accepts both) and would need its messages rewritten.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Final, TypeGuard

from assistants_export.connectors.core.assistant_model import (
    DIALECTS,
    Choice,
    Document,
    Flag,
    Items,
    LiteralOr,
    Node,
    Number,
    Object,
    Path,
    Records,
    Tagged,
    Text,
    TextList,
    TextMap,
    undeclared,
)
from assistants_export.connectors.openai_assistants.settings import MAX_JSON_DEPTH, MAX_VALIDATION_PROBLEMS

__all__ = ["nesting_problem", "unknown_fields", "validate_assistant"]

_MISSING: Final[Any] = object()
"""``dict.get`` default for an absent field; typed ``Any`` so it flows through the field checks."""

_SHOWN_CHARS: Final = 40
"""Offending values are quoted up to this length so a huge bad value cannot bloat the report."""

_PLAIN_KEY: Final = re.compile(r"[\w-]+")

Check = Callable[[Any, str, list[str]], None]
"""A full check: appends what is wrong with a present value at a path (nothing when it is valid)."""
Quick = Callable[[Any], bool]
"""A quick test: true only for a valid value, so the full check can be skipped (it may say false for a valid one)."""


# --- Public API -----------------------------------------------------------


def validate_assistant(obj: object, dialect: str = "openai") -> list[str]:
    """Return every way ``obj`` violates the AssistantObject schema (Foundry's Agent for dialect ``foundry``);
    empty when it is valid.

    Each problem reads ``"<path>: <what is wrong>"``, the path being ``$`` for the root,
    ``model``, ``tools[3].function.name``, ``metadata.team`` and so on. At most
    ``MAX_VALIDATION_PROBLEMS`` lines come back; when more were found the last line
    says how many were left out.
    """
    quick, full = _CHECKS[dialect]
    if quick(obj):
        return []
    if not isinstance(obj, dict):
        return [f"$: expected object, got {_json_type(obj)}"]
    problems: list[str] = []
    full(obj, "", problems)
    if len(problems) <= MAX_VALIDATION_PROBLEMS:
        return problems
    listed = problems[: MAX_VALIDATION_PROBLEMS - 1]
    listed.append(f"$: {len(problems) - len(listed)} more problems not listed")
    return listed


def nesting_problem(obj: object, text: str, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why ``obj`` (parsed from ``text``) is nested too deeply to store, or ``None``.

    The one limit beyond the schema (see ``settings.MAX_JSON_DEPTH``). Nesting cannot
    exceed the number of ``{`` and ``[`` in the text, and counting those runs at C speed,
    so only the rare body with more than ``limit`` of them is walked, without recursion.
    """
    if text.count("{") + text.count("[") <= limit or not isinstance(obj, dict | list):
        return None
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(obj, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth = pop()
        if depth > limit:
            return f"$: nested deeper than {limit} levels of objects and arrays"
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, dict | list):
                push((child, depth + 1))
    return None


def unknown_fields(obj: dict[str, Any], dialect: str = "openai") -> list[str]:
    """Return the paths of fields in ``obj`` that the schema does not declare.

    Unknown fields are allowed (the raw payload keeps them); counting them shows when the
    API has grown fields the flattened tables do not have yet. Free-form maps holding
    user data -- ``metadata``, a function's ``parameters`` and a JSON-schema response
    format's ``schema`` -- are not looked into. Meant for valid objects; parts of an
    invalid one that do not have the declared shape are skipped. The walk is the model's
    (:func:`~assistants_export.connectors.core.assistant_model.undeclared`), which the flattener's
    ``extra_fields`` come from too.
    """
    return [_path(parts) for parts, _ in undeclared(obj, DIALECTS[dialect])]


# --- Checks compiled from the model ---------------------------------------
#
# Each node of the model becomes a full check and a quick test that builds no path or
# message for the common valid value. An object's check reports
# its missing required fields first, then looks at each present declared field in the
# model's order: the quick test first, the full check (which builds the path) only when
# it fails.


def _compile(node: Node, nullable: bool) -> tuple[Quick, Check]:
    """The quick test and the full check of a value of ``node`` (``None`` allowed when ``nullable``)."""
    if isinstance(node, Text):
        return _text(node.max_length, nullable)
    if isinstance(node, Number):
        return _number(node, nullable)
    if isinstance(node, Choice):
        return _choice(tuple(sorted(node.values)), nullable)
    if isinstance(node, Flag):
        return _flag(nullable)
    if isinstance(node, TextList):
        return _quick(node, nullable), _nullable(_text_list(node.max_items), nullable, "array")
    if isinstance(node, TextMap):
        return _quick(node, nullable), _nullable(_text_map, nullable, "object")
    if isinstance(node, Document):
        return _document(nullable, node.any_type)
    if isinstance(node, Object):
        return _quick(node, nullable), _nullable(_object(node), nullable, "object")
    if isinstance(node, Tagged):
        return _quick(node, nullable), _nullable(_tagged(node), nullable, "object")
    if isinstance(node, Items | Records):
        return _quick(node, nullable), _nullable(_items(node), nullable, "array")
    return _literal_or(node, nullable)


def _quick(node: TextList | TextMap | Object | Tagged | Items | Records, nullable: bool) -> Quick:
    """The quick test of a container: true only when it and everything in it is valid.

    It builds no path and no message; on a valid body the whole tree is checked by these
    alone. A tagged object is dispatched by its tag straight to its variant's test.
    """
    quick = _quick_container(node)
    if nullable:
        return lambda v: v is None or quick(v)
    return quick


def _quick_container(node: TextList | TextMap | Object | Tagged | Items | Records) -> Quick:
    if isinstance(node, TextList):
        max_items = node.max_items if node.max_items is not None else math.inf

        def text_list(v: Any) -> bool:
            return v.__class__ is list and len(v) <= max_items and all(item.__class__ is str for item in v)

        return text_list
    if isinstance(node, TextMap):

        def text_map(v: Any) -> bool:
            return v.__class__ is dict and all(item.__class__ is str for item in v.values())

        return text_map
    if isinstance(node, Object):
        required = frozenset(node.required)
        plan = tuple((f.name, _compile(f.node, f.nullable)[0]) for f in node.fields)

        def obj(v: Any) -> bool:
            if v.__class__ is not dict or not v.keys() >= required:
                return False
            get = v.get
            for name, quick in plan:
                value = get(name, _MISSING)
                if value is not _MISSING and not quick(value):
                    return False
            return True

        return obj
    if isinstance(node, Tagged):
        tag, variants = node.tag, {kind: _quick_container(variant) for kind, variant in node.variants.items()}
        fallback = _quick_container(node.fallback) if node.open else None

        def tagged(v: Any) -> bool:
            if v.__class__ is not dict:
                return False
            kind = v.get(tag)
            variant = (variants.get(kind, fallback)) if kind.__class__ is str else None
            return variant is not None and variant(v)

        return tagged
    if isinstance(node, Records):
        limit = node.max_items if node.max_items is not None else math.inf
        record = _quick_container(node.of)

        def records(v: Any) -> bool:
            return v.__class__ is list and len(v) <= limit and all(record(item) for item in v)

        return records
    max_items, of = node.max_items if node.max_items is not None else math.inf, node.of
    tag, variants = of.tag, {kind: _quick_container(variant) for kind, variant in of.variants.items()}
    other = _quick_container(of.fallback) if of.open else None

    def items(v: Any) -> bool:
        if v.__class__ is not list or len(v) > max_items:
            return False
        for item in v:
            if item.__class__ is not dict:
                return False
            kind = item.get(tag)
            variant = variants.get(kind, other) if kind.__class__ is str else None
            if variant is None or not variant(item):
                return False
        return True

    return items


def _nullable(check: Check, nullable: bool, expected: str) -> Check:
    """``check`` for a container value, after the type test every container shares (and ``null`` when allowed)."""
    kind = {"object": dict, "array": list}[expected]
    expected = f"{expected} or null" if nullable else expected

    def typed(value: Any, path: str, problems: list[str]) -> None:
        if isinstance(value, kind):
            check(value, path, problems)
        elif not (nullable and value is None):
            problems.append(_wrong_type(path, expected, value))

    return typed


def _object(node: Object) -> Check:
    required, required_set = node.required, frozenset(node.required)
    plan = tuple((f.name, *_compile(f.node, f.nullable)) for f in node.fields)

    def check(obj: dict[str, Any], path: str, problems: list[str]) -> None:
        if not obj.keys() >= required_set:
            problems.extend(f"{_join(path, key)}: required field is missing" for key in required if key not in obj)
        get = obj.get
        for name, quick, full in plan:
            value = get(name, _MISSING)
            if value is _MISSING or quick(value):
                continue
            full(value, f"{path}.{name}" if path else name, problems)

    return check


def _tagged(node: Tagged) -> Check:
    """The ``oneOf`` of objects with disjoint constant tags: the tag picks the one to match."""
    tag = node.tag
    variants = {name: _object(variant) for name, variant in node.variants.items()}
    _, check_tag = _text(None, nullable=False) if node.open else _choice(tuple(sorted(variants)), nullable=False)
    fallback = _object(node.fallback) if node.open else None

    def check(obj: dict[str, Any], path: str, problems: list[str]) -> None:
        kind = obj.get(tag, _MISSING)
        variant = variants.get(kind, fallback) if kind.__class__ is str else None
        if variant is not None:
            variant(obj, path, problems)
        elif kind is _MISSING:
            problems.append(f"{path}.{tag}: required field is missing")
        else:
            check_tag(kind, f"{path}.{tag}", problems)

    return check


def _items(node: Items | Records) -> Check:
    max_items = node.max_items if node.max_items is not None else math.inf
    _, check_item = _compile(node.of, nullable=False)

    def check(items: list[Any], path: str, problems: list[str]) -> None:
        if len(items) > max_items:
            problems.append(f"{path}: {len(items)} items, at most {max_items} allowed")
        for index, item in enumerate(items):
            check_item(item, f"{path}[{index}]", problems)

    return check


def _literal_or(node: LiteralOr, nullable: bool) -> tuple[Quick, Check]:
    """A string constant or tagged objects (``response_format``: ``"auto"`` or a format object)."""
    literal, check_object = node.literal, _tagged(node.of)
    expected = f"{json.dumps(literal)}, object or null" if nullable else f"{json.dumps(literal)} or object"

    quick_object = _quick_container(node.of)

    def quick(value: Any) -> bool:
        if value.__class__ is str:
            return value == literal
        return (nullable and value is None) or quick_object(value)

    def check(value: Any, path: str, problems: list[str]) -> None:
        if isinstance(value, dict):
            check_object(value, path, problems)
        elif isinstance(value, str):
            if value != literal:
                problems.append(f"{path}: expected {expected}, got {_show(value)}")
        elif not (nullable and value is None):
            problems.append(_wrong_type(path, expected, value))

    return quick, check


def _text(limit: int | None, nullable: bool) -> tuple[Quick, Check]:
    """``type: string`` with an optional ``maxLength`` counted in code points, as ``len`` counts."""
    expected = "string or null" if nullable else "string"
    bound = limit if limit is not None else -1

    def check(value: Any, path: str, problems: list[str]) -> None:
        if isinstance(value, str):
            if len(value) > bound >= 0:
                problems.append(f"{path}: {len(value)} characters, at most {limit} allowed")
        elif not (nullable and value is None):
            problems.append(_wrong_type(path, expected, value))

    if limit is None:
        return (lambda v: v.__class__ is str or v is None) if nullable else (lambda v: v.__class__ is str), check
    if nullable:
        return lambda v: v is None or (v.__class__ is str and len(v) <= limit), check
    return lambda v: v.__class__ is str and len(v) <= limit, check


def _number(node: Number, nullable: bool) -> tuple[Quick, Check]:
    """``type: number`` or ``integer`` with optional inclusive ``minimum`` and ``maximum``."""
    minimum, maximum, integer = node.minimum, node.maximum, node.integer
    low = -math.inf if minimum is None else minimum
    high = math.inf if maximum is None else maximum
    expected = "integer" if integer else "number"
    expected = f"{expected} or null" if nullable else expected

    def check(value: Any, path: str, problems: list[str]) -> None:
        if nullable and value is None:
            return
        if _is_number(value) and (not integer or _is_integer(value)):
            if minimum is not None and value < minimum:
                problems.append(f"{path}: {_show(value)} is below the minimum {_show(minimum)}")
            elif maximum is not None and value > maximum:
                problems.append(f"{path}: {_show(value)} is above the maximum {_show(maximum)}")
        else:
            problems.append(_wrong_type(path, expected, value))

    if integer:  # the common valid value is an int; a float with no fraction goes to the full check
        if nullable:
            return lambda v: v is None or (v.__class__ is int and low <= v <= high), check
        return lambda v: v.__class__ is int and low <= v <= high, check
    if nullable:
        return lambda v: v is None or ((v.__class__ is float or v.__class__ is int) and low <= v <= high), check
    return lambda v: (v.__class__ is float or v.__class__ is int) and low <= v <= high, check


def _choice(allowed: tuple[str, ...], nullable: bool) -> tuple[Quick, Check]:
    """``type: string`` with an ``enum``."""
    values = frozenset(allowed)
    listed = ", ".join(json.dumps(choice) for choice in allowed)
    expected = listed if len(allowed) == 1 else f"one of {listed}"

    def check(value: Any, path: str, problems: list[str]) -> None:
        if (isinstance(value, str) and value in values) or (nullable and value is None):
            return
        got = _show(value) if isinstance(value, str) else _json_type(value)
        problems.append(f"{path}: expected {expected}, got {got}")

    if nullable:
        return lambda v: v is None or (v.__class__ is str and v in values), check
    return lambda v: v.__class__ is str and v in values, check


def _flag(nullable: bool) -> tuple[Quick, Check]:
    """``type: boolean``."""
    expected = "boolean or null" if nullable else "boolean"

    def check(value: Any, path: str, problems: list[str]) -> None:
        if value.__class__ is not bool and not (nullable and value is None):
            problems.append(_wrong_type(path, expected, value))

    return (lambda v: v.__class__ is bool or v is None) if nullable else (lambda v: v.__class__ is bool), check


def _document(nullable: bool, any_type: bool = False) -> tuple[Quick, Check]:
    """A free-form JSON object: only its type is checked, its contents are the user's (any value: ``any_type``)."""
    if any_type:
        def anything(value: Any, path: str, problems: list[str]) -> None:
            return None

        return (lambda v: True), anything
    expected = "object or null" if nullable else "object"

    def check(value: Any, path: str, problems: list[str]) -> None:
        if not isinstance(value, dict) and not (nullable and value is None):
            problems.append(_wrong_type(path, expected, value))

    return (lambda v: v.__class__ is dict or v is None) if nullable else (lambda v: v.__class__ is dict), check


def _text_list(max_items: int | None) -> Check:
    """``type: array`` of strings with ``maxItems``: the file and vector store ID lists."""

    def check(value: list[Any], path: str, problems: list[str]) -> None:
        if max_items is not None and len(value) > max_items:
            problems.append(f"{path}: {len(value)} items, at most {max_items} allowed")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                problems.append(_wrong_type(f"{path}[{index}]", "string", item))

    return check


def _text_map(value: dict[Any, Any], path: str, problems: list[str]) -> None:
    """``additionalProperties: {type: string}``; pair count and lengths are only documented."""
    for key, item in value.items():
        if not isinstance(item, str):
            problems.append(_wrong_type(_join(path, key), "string", item))


_CHECKS: Final = {dialect: (_quick_container(root), _object(root)) for dialect, root in DIALECTS.items()}
"""Each dialect's quick test and full check of a whole body."""


def _is_number(value: object) -> TypeGuard[float]:
    """JSON Schema ``number``: any int or float, but not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: float) -> bool:
    """JSON Schema ``integer``, for a value that is a ``number``: an int, or a float with no fraction."""
    return not isinstance(value, float) or value.is_integer()


# --- Formatting -----------------------------------------------------------


def _join(parent: str, key: object) -> str:
    """Path of a key that may be user data: ``metadata.team``, but ``metadata["a b"]``.

    Keys of decoded JSON are strings; any other key (from a Python caller) is shown as JSON.
    """
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent or '$'}[{json.dumps(key, ensure_ascii=False, default=repr)}]"


def format_path(parts: Path) -> str:
    """A path of a decoded body as problems write it: ``tools[3].function.x``, ``$["a b"]``."""
    return _path(parts)


def _path(parts: Path) -> str:
    """A model path as a problem path: ``tools[3].function.x``, ``$["a b"]``."""
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if part.__class__ is int and path else _join(path, part)
    return path


def _wrong_type(path: str, expected: str, value: object) -> str:
    return f"{path}: expected {expected}, got {_json_type(value)}"


def _json_type(value: object) -> str:
    """Name a Python value by its JSON type, as the schema's ``type`` keyword would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"non-JSON {type(value).__name__}"


def _show(value: object) -> str:
    """Quote a value for a message, shortened; numbers lose a trailing ``.0`` (``2.0`` -> ``2``)."""
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        return json.dumps(text, ensure_ascii=False)
    text = repr(value).removesuffix(".0")
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
