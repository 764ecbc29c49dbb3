"""The hand-written validator is exactly as strict as the AssistantObject JSON Schema.

The property tests are the proof: every object the schema allows passes, and on mutated
objects ``validate_assistant`` and ``jsonschema`` agree on validity -- exhaustively for
every single mutation at the edge of a constraint (missing key, wrong type, limit and
one past it, enum near miss, ``null`` where not allowed...), and at random for several
mutations, blind ones included, on generated objects. The example tests pin the wording
of the messages and the limits at their boundaries.

hypothesis-jsonschema 0.23.1 fails on Hypothesis 6.170 (``'many' object has no
attribute 'more'``: it drives a private Hypothesis helper whose protocol changed), so
valid objects come from the project's own schema-driven generator in
``tests/support/schema_strategies.py``. The oracle stays independent: ``jsonschema``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schema_strategies import from_schema

from assistants_export.connectors.core import assistant_model as model
from assistants_export.connectors.openai_assistants import settings as limits
from assistants_export.connectors.openai_assistants.schema import load_assistant_schema
from assistants_export.connectors.openai_assistants.validation import unknown_fields, validate_assistant

SCHEMA = load_assistant_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
PROBLEM = re.compile(r'(?:\$|[\w-]+)(?:\.[\w-]+|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*: \S.*')
"""One line: a path (``$``, ``a.b``, ``a[3]``, ``a["b c"]``), a colon, what is wrong."""

CODE_TOOL = {"type": "code_interpreter"}
FILE_SEARCH_TOOL = {
    "type": "file_search",
    "file_search": {"max_num_results": 20, "ranking_options": {"ranker": "auto", "score_threshold": 0.5}},
}
FUNCTION_TOOL = {
    "type": "function",
    "function": {
        "name": "get_leave_balance",
        "description": "Remaining leave days of an employee.",
        "parameters": {"type": "object", "properties": {"employee_id": {"type": "string"}}},
        "strict": False,
    },
}
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "description": "d", "schema": {"type": "object"}, "strict": True},
}
TYPICAL: dict[str, Any] = {
    "id": "asst_abc123",
    "object": "assistant",
    "created_at": 1698984975,
    "name": "HR Helper",
    "description": None,
    "model": "gpt-4o",
    "instructions": "You answer employee questions about company policies.",
    "tools": [CODE_TOOL, FILE_SEARCH_TOOL, FUNCTION_TOOL, {"type": "function", "function": {"name": "escalate"}}],
    "tool_resources": {
        "code_interpreter": {"file_ids": ["file-abc123"]},
        "file_search": {"vector_store_ids": ["vs_abc123"]},
    },
    "metadata": {"team": "hr"},
    "temperature": 1.0,
    "top_p": 1.0,
    "response_format": "auto",
}
MAXIMAL: dict[str, Any] = {
    "id": "asst_max",
    "object": "assistant",
    "created_at": 1698984975,
    "name": "Everything",
    "description": "Every optional field present, so every place of the schema is occupied.",
    "model": "gpt-4o",
    "instructions": "Be thorough.",
    "tools": [CODE_TOOL, FILE_SEARCH_TOOL, FUNCTION_TOOL],
    "tool_resources": {
        "code_interpreter": {"file_ids": ["file-1", "file-2"]},
        "file_search": {"vector_store_ids": ["vs_1"]},
    },
    "metadata": {"team": "hr", "cost center": "42"},
    "temperature": 0.7,
    "top_p": 0.9,
    "response_format": JSON_SCHEMA_FORMAT,
}
MINIMAL: dict[str, Any] = {
    "id": "asst_1",
    "object": "assistant",
    "created_at": 0,
    "name": None,
    "description": None,
    "model": "m",
    "instructions": None,
    "tools": [],
    "metadata": None,
}


def changed(path: tuple[str | int, ...], value: Any, base: dict[str, Any] = TYPICAL) -> dict[str, Any]:
    """A deep copy of ``base`` with the value at ``path`` replaced (or set)."""
    obj = copy.deepcopy(base)
    _parent(obj, path)[path[-1]] = value
    return obj


def removed(path: tuple[str | int, ...], base: dict[str, Any] = TYPICAL) -> dict[str, Any]:
    """A deep copy of ``base`` without the field or item at ``path``."""
    obj = copy.deepcopy(base)
    del _parent(obj, path)[path[-1]]
    return obj


def _parent(obj: Any, path: tuple[str | int, ...]) -> Any:
    for key in path[:-1]:
        obj = obj[key]
    return obj


STRUCTURED = changed(("response_format",), JSON_SCHEMA_FORMAT)
"""TYPICAL with a JSON-schema response format."""


def assert_problems(obj: Any, expected: list[str]) -> None:
    """The validator reports exactly ``expected``, and jsonschema agrees on validity."""
    assert validate_assistant(obj) == expected
    assert VALIDATOR.is_valid(obj) == (not expected)


# --- A reference for unknown fields, read off the schema itself ------------


def reference_unknown(obj: dict[str, Any]) -> list[str]:
    """Undeclared fields as the schema defines them, found by walking the schema.

    ``$ref`` is followed, ``anyOf``/``oneOf`` descend into the branch the value matches,
    and objects whose schema has ``additionalProperties`` are maps of user data
    (``metadata``, ``parameters``, ``schema``): not looked into.
    """
    found: list[str] = []
    _walk(SCHEMA, obj, "", found)
    return found


def _walk(node: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if "$ref" in node:
        _walk(SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")], value, path, found)
        return
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            branch = next(b for b in node[combinator] if _matches(b, value))
            _walk(branch, value, path, found)
            return
    if isinstance(value, dict) and node.get("type") == "object" and "additionalProperties" not in node:
        properties = node.get("properties", {})
        for key, item in value.items():
            if key in properties:
                _walk(properties[key], item, _join(path, key), found)
            else:
                found.append(_join(path, key))
    elif isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            _walk(node["items"], item, f"{path}[{index}]", found)


def _matches(branch: dict[str, Any], value: Any) -> bool:
    return VALIDATOR.evolve(schema=branch).is_valid(value)  # evolve keeps the root, so $refs resolve


def _join(parent: str, key: str) -> str:
    """The documented path syntax: ``a.b`` for plain keys, ``a["b c"]`` otherwise."""
    if re.fullmatch(r"[\w-]+", key):
        return f"{parent}.{key}" if parent else key
    return f"{parent or '$'}[{json.dumps(key, ensure_ascii=False)}]"


# --- Property: everything the schema allows passes -------------------------

GENERATED = from_schema(SCHEMA)
"""Objects the schema allows; tens of ms each to draw here, so example counts keep the file near 15 s."""

# Drawing a generated object is slow and some mutated ones are large (129 tools, 256,001
# characters); too_slow/data_too_large would fire on them without pointing at a problem.
SLOW_OK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Shrinking a failure found on a generated object takes Hypothesis' whole five-minute
# shrink budget here, past pytest's timeout; the assertion messages name the offending
# path, so those tests report the example as found.
UNSHRUNK = settings(SLOW_OK, phases=[phase for phase in Phase if phase is not Phase.shrink])


@settings(UNSHRUNK, max_examples=60)
@given(GENERATED)
def test_every_object_the_schema_allows_passes(obj: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(obj)
    assert validate_assistant(obj) == []
    assert sorted(unknown_fields(obj)) == sorted(reference_unknown(obj))


# --- Property: on mutated objects the validator agrees with jsonschema -----
#
# Two kinds of mutation. A schema-aware one picks a place the schema describes (present
# or not) and puts there a value at the edge of what the place allows: each JSON type,
# the enum values and near misses, strings and lists at their limit and one past it,
# numbers at each bound and just beyond, the object minus a required key. A blind one
# deletes, replaces or adds anything anywhere, the root included, so that shapes the
# schema never mentions are tried too. jsonschema is the judge of every result.

ONE_OF_EACH_TYPE: list[Any] = [None, True, 0, 1.5, "x", [], {}]
DELETE = object()


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema node allows: its anyOf/oneOf branches, $refs followed."""
    if "$ref" in node:
        return _branches(SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")])
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            return [leaf for branch in node[combinator] for leaf in _branches(branch)]
    return [node]


Place = tuple[Any, Any, dict[str, Any]]
"""(container, key, schema): a spot in an object, present or not, and the schema that governs it."""


def _places(node: dict[str, Any], value: Any) -> Iterator[Place]:
    """Every place under ``value`` that the schema describes, depth first (the same order for a copy)."""
    for branch in _branches(node):
        if isinstance(value, dict) and branch.get("type") == "object" and _tag_matches(branch, value):
            extra = branch.get("additionalProperties")
            children = dict.fromkeys(value, extra) if isinstance(extra, dict) else {}
            children.update(branch.get("properties", {}))
            for key, child in children.items():
                yield value, key, child
                if key in value:
                    yield from _places(child, value[key])
        elif isinstance(value, list) and "items" in branch:
            for index, item in enumerate(value):
                yield value, index, branch["items"]
                yield from _places(branch["items"], item)


def _tag_matches(branch: dict[str, Any], value: dict[str, Any]) -> bool:
    """A tool or response-format variant applies only to objects carrying its ``type``."""
    tag = branch.get("properties", {}).get("type", {}).get("enum")
    return tag is None or value.get("type") in tag


def _edge_values(node: dict[str, Any], current: Any) -> list[Any]:
    """Values on both sides of every constraint the node puts on its place (fresh objects each call)."""
    values = copy.deepcopy(ONE_OF_EACH_TYPE)
    for branch in _branches(node):
        values += branch.get("enum", []) + [choice + "x" for choice in branch.get("enum", [])]
        if "maxLength" in branch:
            values += ["😀" * branch["maxLength"], "😀" * (branch["maxLength"] + 1)]
        if "maxItems" in branch:
            item = current[-1] if isinstance(current, list) and current else "x"
            values += [[copy.deepcopy(item) for _ in range(n)] for n in (branch["maxItems"], branch["maxItems"] + 1)]
        for bound in (branch[key] for key in ("minimum", "maximum") if key in branch):
            values += [bound, float(bound), bound - 0.0001, bound + 0.0001]
        if branch.get("type") == "integer":
            values += [7.0, 7.5]
        if isinstance(current, dict):
            values += [{k: v for k, v in current.items() if k != key} for key in branch.get("required", [])]
    return values


def _choices(place: Place) -> list[Any]:
    """What a schema-aware mutation may do at ``place``: delete it, or put an edge value there."""
    container, key, node = place
    current = container[key] if isinstance(container, list) or key in container else None
    return [DELETE, *_edge_values(node, current)]


def _apply(place: Place, value: Any) -> None:
    container, key, _ = place
    if value is not DELETE:
        container[key] = value
    elif isinstance(container, list) or key in container:
        del container[key]


def _mutate_by_schema(draw: st.DrawFn, obj: dict[str, Any]) -> None:
    place = draw(st.sampled_from(list(_places(SCHEMA, obj))))
    _apply(place, draw(st.sampled_from(_choices(place))))


# Blind mutations draw keys and values from here.


def _schema_keys(node: Any) -> set[str]:
    """Every property name the schema declares, at any depth."""
    if isinstance(node, dict):
        names = set(node.get("properties", {}))
        return names.union(*(_schema_keys(child) for child in node.values()))
    if isinstance(node, list):
        return set().union(*(_schema_keys(child) for child in node))
    return set()


KEYS = [*sorted(_schema_keys(SCHEMA)), "extra", "a b", ""]
LIST_LENGTHS = (0, 1, 2, 20, 21, 128, 129)
SCALARS: list[Any] = [
    None, True, False, 0, 1, 2, -1, 50, 51, 10**30, 0.0, -0.0, 0.5, 1.0, 1.5, 2.0, 2.0001, -0.0001,
    1.0001, 50.0, 51.0, 1e300, math.inf, -math.inf, math.nan,
    "", "x", "auto", "assistant", "thread", "text", "json_object", "json_schema", "function",
    "file_search", "code_interpreter", "default_2024_08_21", "x" * 256, "x" * 257, "é" * 512, "é" * 513,
    "😀" * 256_000, "😀" * 256_001,
]  # fmt: skip
FRAGMENTS: list[Any] = [
    [], {}, ["a"], [1], CODE_TOOL, FILE_SEARCH_TOOL, FUNCTION_TOOL, {"type": "file_search"},
    {"type": "function"}, {"type": "browser"}, FILE_SEARCH_TOOL["file_search"],
    {"score_threshold": 1}, {"ranker": "auto"}, FUNCTION_TOOL["function"], {"name": "f"},
    TYPICAL["tool_resources"], {"file_ids": ["f"]}, {"vector_store_ids": ["v"]},
    {"type": "text"}, {"type": "json_object"}, JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT["json_schema"],
    {"team": "hr", "cost center": "42"},
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(SCALARS),
    st.sampled_from(FRAGMENTS).map(copy.deepcopy),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
        max_leaves=6,
    ),
)


def _containers(value: Any) -> list[Any]:
    """Every dict and list inside ``value`` (itself included): the places a mutation can hit."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            found.append(item)
            stack.extend(item)
    return found


def _mutate_blindly(draw: st.DrawFn, obj: dict[str, Any]) -> Any:
    """Mutate any dict or list inside ``obj``, or (rarely) replace it; return the new root."""
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)  # An array, a string, null... instead of an object.
    target = draw(st.sampled_from(_containers(obj)))
    if isinstance(target, dict):
        _mutate_dict(draw, target)
    else:
        _mutate_list(draw, target)
    return obj


def _mutate_dict(draw: st.DrawFn, target: dict[str, Any]) -> None:
    keys = sorted(target)
    operation = draw(st.sampled_from(("delete", "replace", "add")) if keys else st.just("add"))
    if operation == "delete":
        del target[draw(st.sampled_from(keys))]
    else:
        target[draw(st.sampled_from(keys if operation == "replace" else KEYS))] = draw(VALUES)


def _mutate_list(draw: st.DrawFn, target: list[Any]) -> None:
    operation = draw(st.sampled_from(("set", "append", "delete", "resize")) if target else st.just("resize"))
    if operation == "set":
        target[draw(st.integers(0, len(target) - 1))] = draw(VALUES)
    elif operation == "append":
        target.append(draw(VALUES))
    elif operation == "delete":
        del target[draw(st.integers(0, len(target) - 1))]
    else:  # Pad or cut to a length around maxItems (20, 1, 128) by repeating the last item.
        length = draw(st.sampled_from(LIST_LENGTHS))
        filler = target[-1] if target else draw(VALUES)
        target[:] = (target + [copy.deepcopy(filler) for _ in range(length)])[:length]


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]], max_mutations: int) -> Any:
    """A valid object after one or more random mutations, schema-aware or blind."""
    obj: Any = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(1, max_mutations))):
        if not isinstance(obj, dict):
            break
        if draw(st.booleans()):
            _mutate_by_schema(draw, obj)
        else:
            obj = _mutate_blindly(draw, obj)
    return obj


@settings(UNSHRUNK, max_examples=60)
@given(mutated(GENERATED, max_mutations=3))
def test_agrees_with_jsonschema_on_mutated_generated_objects(obj: Any) -> None:
    assert_agrees_with_jsonschema(obj)


@settings(SLOW_OK, max_examples=300)
@given(mutated(st.sampled_from([MAXIMAL, TYPICAL, MINIMAL]), max_mutations=4))
def test_agrees_with_jsonschema_on_mutated_known_objects(obj: Any) -> None:
    """Cheap bases leave the time for many more mutations, deeper into every kind of tool."""
    assert_agrees_with_jsonschema(obj)


@pytest.mark.parametrize("base", [MAXIMAL, TYPICAL, MINIMAL], ids=["maximal", "typical", "minimal"])
def test_agrees_with_jsonschema_one_edge_away(base: dict[str, Any]) -> None:
    """Every single schema-aware mutation, exhaustively: a bug hidden behind one constraint shows.

    Random mutations compare validity only, so a missed problem goes unseen whenever another
    mutation made the object invalid anyway; one mutation at a time, every constraint counts.
    """
    disagreements = []
    for index, place in enumerate(_places(SCHEMA, base)):
        for choice in range(len(_choices(place))):
            obj = copy.deepcopy(base)
            copied_place = list(_places(SCHEMA, obj))[index]
            value = _choices(copied_place)[choice]
            _apply(copied_place, value)
            problems = validate_assistant(obj)
            if bool(problems) == VALIDATOR.is_valid(obj):
                disagreements.append((place[1], "<delete>" if value is DELETE else repr(value)[:40], problems))
    assert disagreements == []


def assert_agrees_with_jsonschema(obj: Any) -> None:
    problems = validate_assistant(obj)
    schema_error = jsonschema.exceptions.best_match(VALIDATOR.iter_errors(obj))
    assert bool(problems) == (schema_error is not None), (problems, schema_error and schema_error.json_path)
    assert all(PROBLEM.fullmatch(problem) for problem in problems), problems
    assert len(problems) <= limits.MAX_VALIDATION_PROBLEMS
    if not problems:
        assert sorted(unknown_fields(obj)) == sorted(reference_unknown(obj))


# --- Messages ------------------------------------------------------------------


FUNCTION = ("tools", 2, "function")
JSON_SCHEMA = ("response_format", "json_schema")


def test_valid_objects_have_no_problems() -> None:
    assert_problems(TYPICAL, [])
    assert_problems(MINIMAL, [])
    assert_problems(STRUCTURED, [])


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (removed(("model",)), "model: required field is missing"),
        (changed(("created_at",), "2024-01-01"), "created_at: expected integer, got string"),
        (changed(("object",), "thread"), 'object: expected "assistant", got "thread"'),
        (changed(("name",), 7), "name: expected string or null, got integer"),
        (changed(("temperature",), 3.5), "temperature: 3.5 is above the maximum 2"),
        (changed(("temperature",), True), "temperature: expected number or null, got boolean"),
        (changed(("top_p",), -0.5), "top_p: -0.5 is below the minimum 0"),
        (changed(("tools",), {}), "tools: expected array, got object"),
        (changed(("tools", 0), "code_interpreter"), "tools[0]: expected object, got string"),
        (changed(("tools", 0), {}), "tools[0].type: required field is missing"),
        (
            changed(("tools", 0, "type"), "browser"),
            'tools[0].type: expected one of "code_interpreter", "file_search", "function", got "browser"',
        ),
        (removed(("tools", 3, "function", "name")), "tools[3].function.name: required field is missing"),
        (changed(("tools", 3, "function", "name"), 42), "tools[3].function.name: expected string, got integer"),
        (changed((*FUNCTION, "parameters"), []), "tools[2].function.parameters: expected object, got array"),
        (changed((*FUNCTION, "strict"), "yes"), "tools[2].function.strict: expected boolean or null, got string"),
        (removed(("tools", 2, "function")), "tools[2].function: required field is missing"),
        (
            removed(("tools", 1, "file_search", "ranking_options", "score_threshold")),
            "tools[1].file_search.ranking_options.score_threshold: required field is missing",
        ),
        (
            changed(("tools", 1, "file_search", "ranking_options", "ranker"), "best"),
            'tools[1].file_search.ranking_options.ranker: expected one of "auto", "default_2024_08_21", got "best"',
        ),
        (changed(("tools", 1, "file_search"), None), "tools[1].file_search: expected object, got null"),
        (changed(("tool_resources",), []), "tool_resources: expected object or null, got array"),
        (changed(("tool_resources", "file_search"), None), "tool_resources.file_search: expected object, got null"),
        (
            changed(("tool_resources", "file_search", "vector_store_ids"), "vs_1"),
            "tool_resources.file_search.vector_store_ids: expected array, got string",
        ),
        (
            changed(("tool_resources", "code_interpreter", "file_ids"), ["f", 2]),
            "tool_resources.code_interpreter.file_ids[1]: expected string, got integer",
        ),
        (changed(("metadata",), "team=hr"), "metadata: expected object or null, got string"),
        (changed(("metadata", "team"), 1), "metadata.team: expected string, got integer"),
        (changed(("metadata", "cost center"), None), 'metadata["cost center"]: expected string, got null'),
        (changed(("response_format",), "json"), 'response_format: expected "auto", object or null, got "json"'),
        (changed(("response_format",), 1), 'response_format: expected "auto", object or null, got integer'),
        (changed(("response_format",), {}), "response_format.type: required field is missing"),
        (
            changed(("response_format",), {"type": "xml"}),
            'response_format.type: expected one of "json_object", "json_schema", "text", got "xml"',
        ),
        (removed(JSON_SCHEMA, STRUCTURED), "response_format.json_schema: required field is missing"),
        (changed(JSON_SCHEMA, {}, STRUCTURED), "response_format.json_schema.name: required field is missing"),
        (
            changed((*JSON_SCHEMA, "schema"), "{}", STRUCTURED),
            "response_format.json_schema.schema: expected object, got string",
        ),
    ],
)  # fmt: skip
def test_each_problem_says_where_and_what(obj: dict[str, Any], problem: str) -> None:
    assert_problems(obj, [problem])


@pytest.mark.parametrize(("root", "kind"), [([TYPICAL], "array"), ("asst_1", "string"), (None, "null"), (3, "integer")])
def test_a_root_that_is_not_an_object(root: Any, kind: str) -> None:
    assert_problems(root, [f"$: expected object, got {kind}"])


def test_every_problem_is_reported_at_once() -> None:
    obj = changed(("created_at",), None, removed(("model",)))
    assert_problems(obj, ["model: required field is missing", "created_at: expected integer, got null"])


def test_the_list_of_problems_is_capped() -> None:
    obj = changed(("tools",), [{"type": 1}] * 100)
    problems = validate_assistant(obj)
    assert len(problems) == limits.MAX_VALIDATION_PROBLEMS
    assert problems[-1] == f"$: {100 - limits.MAX_VALIDATION_PROBLEMS + 1} more problems not listed"


def test_long_values_are_shortened_in_messages() -> None:
    (problem,) = validate_assistant(changed(("object",), "y" * 10_000))
    assert len(problem) < 100


# --- Limits at their boundaries ------------------------------------------------

FILE_SEARCH = ("tools", 1, "file_search")


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("instructions",), "x" * 256_000, None),
        (("instructions",), "x" * 256_001, "instructions: 256001 characters, at most 256000 allowed"),
        (("name",), "😀" * 256, None),  # Characters are code points, not bytes or UTF-16 units.
        (("name",), "x" * 257, "name: 257 characters, at most 256 allowed"),
        (("description",), "x" * 512, None),
        (("description",), "x" * 513, "description: 513 characters, at most 512 allowed"),
        (("tools",), [CODE_TOOL] * 128, None),
        (("tools",), [CODE_TOOL] * 129, "tools: 129 items, at most 128 allowed"),
        (("temperature",), 2, None),
        (("temperature",), 2.0001, "temperature: 2.0001 is above the maximum 2"),
        (("temperature",), 0, None),
        (("temperature",), -0.0001, "temperature: -0.0001 is below the minimum 0"),
        (("temperature",), None, None),
        (("top_p",), 1, None),
        (("top_p",), 1.0001, "top_p: 1.0001 is above the maximum 1"),
        (("top_p",), 0.0, None),
        (("top_p",), -0.0001, "top_p: -0.0001 is below the minimum 0"),
        ((*FILE_SEARCH, "max_num_results"), 1, None),
        ((*FILE_SEARCH, "max_num_results"), 50, None),
        ((*FILE_SEARCH, "max_num_results"), 50.0, None),  # An integer in JSON Schema's sense.
        ((*FILE_SEARCH, "max_num_results"), 0, "tools[1].file_search.max_num_results: 0 is below the minimum 1"),
        ((*FILE_SEARCH, "max_num_results"), 51, "tools[1].file_search.max_num_results: 51 is above the maximum 50"),
        ((*FILE_SEARCH, "max_num_results"), 2.5, "tools[1].file_search.max_num_results: expected integer, got number"),
        ((*FILE_SEARCH, "ranking_options", "score_threshold"), 0, None),
        ((*FILE_SEARCH, "ranking_options", "score_threshold"), 1, None),
        (
            (*FILE_SEARCH, "ranking_options", "score_threshold"),
            1.01,
            "tools[1].file_search.ranking_options.score_threshold: 1.01 is above the maximum 1",
        ),
        (
            (*FILE_SEARCH, "ranking_options", "score_threshold"),
            -1,
            "tools[1].file_search.ranking_options.score_threshold: -1 is below the minimum 0",
        ),
        (("tool_resources", "code_interpreter", "file_ids"), ["f"] * 20, None),
        (
            ("tool_resources", "code_interpreter", "file_ids"),
            ["f"] * 21,
            "tool_resources.code_interpreter.file_ids: 21 items, at most 20 allowed",
        ),
        (("tool_resources", "file_search", "vector_store_ids"), ["vs_1"], None),
        (
            ("tool_resources", "file_search", "vector_store_ids"),
            ["vs_1", "vs_2"],
            "tool_resources.file_search.vector_store_ids: 2 items, at most 1 allowed",
        ),
    ],
)
def test_limits_at_their_boundaries(path: tuple[str | int, ...], value: Any, problem: str | None) -> None:
    assert_problems(changed(path, value), [] if problem is None else [problem])


# --- Exactly as strict as the schema, no more ----------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("created_at",), 1.0),  # JSON Schema integers include floats with no fraction.
        (("created_at",), 10**30),
        (("temperature",), 1),
        (("metadata",), {f"key{i}": "v" for i in range(17)}),  # 16 pairs is documented, not in the schema.
        (("metadata",), {"k" * 65: "v" * 513}),
        (("tools", 2, "function", "name"), "not a valid name! " * 10),  # Documented a-z0-9_- and 64 chars.
        (("tools", 0, "file_search"), "ignored"),  # Extra fields are allowed, even on another tool's key.
        (("response_format",), {"type": "text", "json_schema": 1}),
        (("tool_resources",), {}),
        (("temperature",), math.nan),  # Like jsonschema: NaN is a number and fails no comparison.
    ],
)
def test_only_the_schema_is_enforced(path: tuple[str | int, ...], value: Any) -> None:
    assert_problems(changed(path, value), [])


def test_booleans_are_not_numbers() -> None:
    assert_problems(changed(("created_at",), True), ["created_at: expected integer, got boolean"])
    assert_problems(
        changed((*FILE_SEARCH, "ranking_options", "score_threshold"), False),
        ["tools[1].file_search.ranking_options.score_threshold: expected number, got boolean"],
    )


# --- Unknown fields ----------------------------------------------------------------


def test_a_fully_declared_object_has_no_unknown_fields() -> None:
    assert unknown_fields(TYPICAL) == []
    assert unknown_fields(STRUCTURED) == []


def test_unknown_fields_are_listed_with_their_paths() -> None:
    obj = copy.deepcopy(TYPICAL)
    obj["reasoning_effort"] = "low"
    obj["a b"] = 1
    obj["tools"][0]["beta"] = True
    obj["tools"][1]["file_search"]["mode"] = "fast"
    obj["tools"][1]["file_search"]["ranking_options"]["hybrid"] = {}
    obj["tools"][3]["function"]["examples"] = []
    obj["tool_resources"]["web"] = {}
    obj["tool_resources"]["file_search"]["vector_stores"] = []
    obj["response_format"] = {**JSON_SCHEMA_FORMAT, "version": 2}
    obj["response_format"]["json_schema"] = {**JSON_SCHEMA_FORMAT["json_schema"], "draft": "2020-12"}
    expected = [
        "reasoning_effort",
        '$["a b"]',
        "tools[0].beta",
        "tools[1].file_search.mode",
        "tools[1].file_search.ranking_options.hybrid",
        "tools[3].function.examples",
        "tool_resources.web",
        "tool_resources.file_search.vector_stores",
        "response_format.version",
        "response_format.json_schema.draft",
    ]
    assert validate_assistant(obj) == []
    assert sorted(unknown_fields(obj)) == sorted(expected)
    assert sorted(reference_unknown(obj)) == sorted(expected)


def test_user_data_maps_are_not_searched_for_unknown_fields() -> None:
    obj = changed(("metadata",), {"anything": "goes", "owner": "alice"})
    obj["tools"][2]["function"]["parameters"] = {"type": "object", "x-custom": 1, "whatever": {}}
    obj["response_format"] = changed(("json_schema", "schema"), {"x-custom": 1}, JSON_SCHEMA_FORMAT)
    assert unknown_fields(obj) == []


# --- The schema document and the model's limits agree -----------------------------------


def test_the_models_limits_match_the_schema() -> None:
    properties, defs = SCHEMA["properties"], SCHEMA["$defs"]

    def nullable(name: str) -> dict[str, Any]:
        return properties[name]["anyOf"][0]

    resources_schema = properties["tool_resources"]["anyOf"][0]["properties"]
    file_search = defs["AssistantToolsFileSearch"]["properties"]["file_search"]["properties"]
    ranking = defs["FileSearchRankingOptions"]["properties"]
    assert nullable("name")["maxLength"] == model.MAX_NAME_LENGTH
    assert nullable("description")["maxLength"] == model.MAX_DESCRIPTION_LENGTH
    assert nullable("instructions")["maxLength"] == model.MAX_INSTRUCTIONS_LENGTH
    assert properties["tools"]["maxItems"] == model.MAX_TOOLS
    file_ids = resources_schema["code_interpreter"]["properties"]["file_ids"]
    assert file_ids["maxItems"] == model.MAX_CODE_INTERPRETER_FILES
    vector_store_ids = resources_schema["file_search"]["properties"]["vector_store_ids"]
    assert vector_store_ids["maxItems"] == model.MAX_VECTOR_STORES
    assert (nullable("temperature")["minimum"], nullable("temperature")["maximum"]) == model.TEMPERATURE_RANGE
    assert (nullable("top_p")["minimum"], nullable("top_p")["maximum"]) == model.TOP_P_RANGE
    max_results = file_search["max_num_results"]
    assert (max_results["minimum"], max_results["maximum"]) == model.FILE_SEARCH_MAX_RESULTS_RANGE
    score = ranking["score_threshold"]
    assert (score["minimum"], score["maximum"]) == model.SCORE_THRESHOLD_RANGE
    assert set(defs["FileSearchRanker"]["enum"]) == model.FILE_SEARCH_RANKERS
    tool_types = {defs[ref["$ref"].removeprefix("#/$defs/")]["properties"]["type"]["enum"][0]
                  for ref in properties["tools"]["items"]["oneOf"]}  # fmt: skip
    assert tool_types == model.TOOL_TYPES
    format_types = {defs[ref["$ref"].removeprefix("#/$defs/")]["properties"]["type"]["enum"][0]
                    for ref in defs["AssistantsApiResponseFormatOption"]["oneOf"][1:]}  # fmt: skip
    assert format_types == model.RESPONSE_FORMAT_TYPES


def test_the_schema_is_a_valid_draft_2020_12_document_with_its_licence() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "openai/openai-openapi" in SCHEMA["$comment"] and "MIT" in SCHEMA["$comment"]
    package = resources.files("assistants_export.connectors.openai_assistants.schema")
    assert "MIT License" in package.joinpath("LICENSE-openai-openapi").read_text(encoding="utf-8")


def test_each_load_returns_a_fresh_copy() -> None:
    first = load_assistant_schema()
    first["properties"].clear()
    assert load_assistant_schema()["properties"]
