"""The sandbox fixtures: valid per the API schema, covering every shape, deterministic; and the catalogs."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from assistants_export.sandbox import fixtures
from assistants_export.sandbox.fixtures import (
    GeneratedCatalog,
    StaticCatalog,
    bundled_assistants,
    invalid_assistants,
    serialize_body,
)

# --- The AssistantObject schema, transcribed from the API reference (this project's tests never read
# the spec file). Metadata limits (16 pairs, 64-char keys, 512-char values) are the documented ones the
# schema only states in prose.

_NULLABLE_BOOL = {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
ASSISTANT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "object", "created_at", "name", "description", "model", "instructions", "tools", "metadata"],
    "properties": {
        "id": {"type": "string"},
        "object": {"enum": ["assistant"]},
        "created_at": {"type": "integer"},
        "name": {"anyOf": [{"type": "string", "maxLength": 256}, {"type": "null"}]},
        "description": {"anyOf": [{"type": "string", "maxLength": 512}, {"type": "null"}]},
        "model": {"type": "string"},
        "instructions": {"anyOf": [{"type": "string", "maxLength": 256000}, {"type": "null"}]},
        "tools": {"type": "array", "maxItems": 128, "items": {"$ref": "#/$defs/tool"}},
        "tool_resources": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "code_interpreter": {
                            "type": "object",
                            "properties": {"file_ids": {"type": "array", "maxItems": 20, "items": {"type": "string"}}},
                        },
                        "file_search": {
                            "type": "object",
                            "properties": {
                                "vector_store_ids": {"type": "array", "maxItems": 1, "items": {"type": "string"}}
                            },
                        },
                    },
                },
                {"type": "null"},
            ]
        },
        "metadata": {
            "anyOf": [
                {
                    "type": "object",
                    "maxProperties": 16,
                    "propertyNames": {"maxLength": 64},
                    "additionalProperties": {"type": "string", "maxLength": 512},
                },
                {"type": "null"},
            ]
        },
        "temperature": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 2}, {"type": "null"}]},
        "top_p": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]},
        "response_format": {
            "anyOf": [
                {"enum": ["auto"]},
                {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["text"]}}},
                {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["json_object"]}}},
                {
                    "type": "object",
                    "required": ["type", "json_schema"],
                    "properties": {
                        "type": {"enum": ["json_schema"]},
                        "json_schema": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "description": {"type": "string"},
                                "schema": {"type": "object"},
                                "strict": _NULLABLE_BOOL,
                            },
                        },
                    },
                },
                {"type": "null"},
            ]
        },
    },
    "$defs": {
        "tool": {
            "oneOf": [
                {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["code_interpreter"]}}},
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"enum": ["file_search"]},
                        "file_search": {
                            "type": "object",
                            "properties": {
                                "max_num_results": {"type": "integer", "minimum": 1, "maximum": 50},
                                "ranking_options": {
                                    "type": "object",
                                    "required": ["score_threshold"],
                                    "properties": {
                                        "ranker": {"enum": ["auto", "default_2024_08_21"]},
                                        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1},
                                    },
                                },
                            },
                        },
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "function"],
                    "properties": {
                        "type": {"enum": ["function"]},
                        "function": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                                "description": {"type": "string"},
                                "parameters": {"type": "object"},
                                "strict": _NULLABLE_BOOL,
                            },
                        },
                    },
                },
            ]
        }
    },
}
VALIDATOR = jsonschema.Draft202012Validator(ASSISTANT_SCHEMA)
ASSISTANT_ID = re.compile(r"asst_[A-Za-z0-9]{24}")


@pytest.fixture(scope="module")
def assistants() -> list[dict[str, Any]]:
    return bundled_assistants()


def _tools(a: dict[str, Any]) -> list[dict[str, Any]]:
    return a["tools"] if isinstance(a.get("tools"), list) else []


def _functions(a: dict[str, Any]) -> list[dict[str, Any]]:
    return [t["function"] for t in _tools(a) if t["type"] == "function"]


def _file_search(a: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in _tools(a) if t["type"] == "file_search"]


def _json_schema(a: dict[str, Any]) -> dict[str, Any] | None:
    fmt = a.get("response_format")
    return fmt["json_schema"] if isinstance(fmt, dict) and fmt["type"] == "json_schema" else None


def _depth(schema: object) -> int:
    if isinstance(schema, dict):
        return 1 + max((_depth(v) for v in schema.values()), default=0)
    if isinstance(schema, list):
        return max((_depth(v) for v in schema), default=0)
    return 0


def _resources(a: dict[str, Any]) -> dict[str, Any]:
    return a.get("tool_resources") or {}


def _file_ids(a: dict[str, Any]) -> list[str] | None:
    section = _resources(a).get("code_interpreter")
    return None if section is None else section["file_ids"]


def _has_script(text: object, pattern: str) -> bool:
    return isinstance(text, str) and re.search(pattern, text) is not None


CJK, ARABIC, HEBREW, EMOJI = "[\u4e00-\u9fff]", "[\u0600-\u06ff]", "[\u0590-\u05ff]", "[\U0001f300-\U0001faff]"

SHAPES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "code_interpreter tool": lambda a: any(t["type"] == "code_interpreter" for t in _tools(a)),
    "file_search without overrides": lambda a: any("file_search" not in t for t in _file_search(a)),
    "file_search max_num_results only": lambda a: any(
        t.get("file_search", {}).keys() == {"max_num_results"} for t in _file_search(a)
    ),
    "ranker auto": lambda a: any(
        t.get("file_search", {}).get("ranking_options", {}).get("ranker") == "auto" for t in _file_search(a)
    ),
    "ranker default_2024_08_21": lambda a: any(
        t.get("file_search", {}).get("ranking_options", {}).get("ranker") == "default_2024_08_21"
        for t in _file_search(a)
    ),
    "function without description": lambda a: any("description" not in f for f in _functions(a)),
    "function with description": lambda a: any("description" in f for f in _functions(a)),
    "function without parameters": lambda a: any("parameters" not in f for f in _functions(a)),
    "function with empty parameters": lambda a: any(f.get("parameters") == {} for f in _functions(a)),
    "function with deep parameters (enums, arrays, required)": lambda a: any(
        _depth(f.get("parameters")) >= 6
        and '"enum"' in json.dumps(f["parameters"])
        and '"array"' in json.dumps(f["parameters"])
        and '"required"' in json.dumps(f["parameters"])
        for f in _functions(a)
    ),
    "function strict true": lambda a: any(f.get("strict") is True for f in _functions(a)),
    "function strict false": lambda a: any(f.get("strict") is False for f in _functions(a)),
    "function strict null": lambda a: any("strict" in f and f["strict"] is None for f in _functions(a)),
    "function strict absent": lambda a: any("strict" not in f for f in _functions(a)),
    "no tools": lambda a: a["tools"] == [],
    "response_format auto": lambda a: a.get("response_format") == "auto",
    "response_format null": lambda a: "response_format" in a and a["response_format"] is None,
    "response_format absent": lambda a: "response_format" not in a,
    "response_format text": lambda a: a.get("response_format") == {"type": "text"},
    "response_format json_object": lambda a: a.get("response_format") == {"type": "json_object"},
    "json_schema with name only": lambda a: (_json_schema(a) or {}).keys() == {"name"},
    "json_schema with description": lambda a: "description" in (_json_schema(a) or {}),
    "json_schema with schema": lambda a: "schema" in (_json_schema(a) or {}),
    "json_schema strict true": lambda a: (_json_schema(a) or {}).get("strict", 0) is True,
    "json_schema strict false": lambda a: (_json_schema(a) or {}).get("strict", 0) is False,
    "json_schema strict null": lambda a: (_json_schema(a) or {}).get("strict", 0) is None,
    "json_schema strict absent": lambda a: "strict" not in (_json_schema(a) or {"strict": "n/a"}),
    "metadata empty": lambda a: a["metadata"] == {},
    "metadata null": lambda a: a["metadata"] is None,
    "metadata 16 keys": lambda a: len(a["metadata"] or {}) == 16,
    "metadata key of 64 chars": lambda a: any(len(k) == 64 for k in a["metadata"] or {}),
    "metadata value of 512 chars": lambda a: any(len(v) == 512 for v in (a["metadata"] or {}).values()),
    "metadata unicode keys": lambda a: any(not k.isascii() for k in a["metadata"] or {}),
    "metadata quotes": lambda a: any('"' in v and "'" in v for v in (a["metadata"] or {}).values()),
    "metadata SQL": lambda a: "'; DROP TABLE assistants; --" in (a["metadata"] or {}).values(),
    "metadata newlines": lambda a: any("\n" in v for v in (a["metadata"] or {}).values()),
    "metadata emoji": lambda a: any(_has_script(v, EMOJI) for v in (a["metadata"] or {}).values()),
    "tool_resources absent": lambda a: "tool_resources" not in a,
    "tool_resources null": lambda a: "tool_resources" in a and a["tool_resources"] is None,
    "tool_resources empty": lambda a: a.get("tool_resources") == {},
    "code_interpreter 0 files": lambda a: _file_ids(a) == [],
    "code_interpreter 20 files": lambda a: len(_file_ids(a) or []) == 20,
    "code_interpreter 1-19 files": lambda a: 0 < len(_file_ids(a) or []) < 20,
    "file_search 1 vector store": lambda a: len(_resources(a).get("file_search", {}).get("vector_store_ids", [])) == 1,
    "name null": lambda a: a["name"] is None,
    "description null": lambda a: a["description"] is None,
    "instructions null": lambda a: a["instructions"] is None,
    "name of 256 chars": lambda a: len(a["name"] or "") == 256,
    "description of 512 chars": lambda a: len(a["description"] or "") == 512,
    "temperature null": lambda a: a["temperature"] is None,
    "top_p null": lambda a: a["top_p"] is None,
    "temperature 0.2": lambda a: a["temperature"] == 0.2,
    "temperature int 1": lambda a: type(a["temperature"]) is int and a["temperature"] == 1,
    "temperature float 1.0": lambda a: type(a["temperature"]) is float and a["temperature"] == 1.0,
    "temperature 2": lambda a: a["temperature"] == 2,
    "top_p int 1": lambda a: type(a["top_p"]) is int and a["top_p"] == 1,
    "top_p 0": lambda a: a["top_p"] == 0,
    "CJK text": lambda a: _has_script(a["name"], CJK) and _has_script(a["instructions"], CJK),
    "Arabic (RTL) text": lambda a: _has_script(a["name"], ARABIC) and _has_script(a["instructions"], ARABIC),
    "Hebrew (RTL) text": lambda a: _has_script(a["name"], HEBREW),
    "emoji text": lambda a: _has_script(a["name"], EMOJI) and _has_script(a["instructions"], EMOJI),
    "unknown top-level field": lambda a: not a.keys() <= set(ASSISTANT_SCHEMA["properties"]),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_is_covered(assistants: list[dict[str, Any]], shape: str) -> None:
    assert any(SHAPES[shape](a) for a in assistants), shape


def test_every_bundled_assistant_is_valid(assistants: list[dict[str, Any]]) -> None:
    for assistant in assistants:
        errors = [e.message[:200] for e in VALIDATOR.iter_errors(assistant)]
        assert errors == [], assistant["id"]


def test_bundled_ids_and_timestamps(assistants: list[dict[str, Any]]) -> None:
    assert len(assistants) >= 60
    ids = [a["id"] for a in assistants]
    assert all(ASSISTANT_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    created = [a["created_at"] for a in assistants]
    assert created == sorted(created) and len(set(created)) == len(created)
    assert created[0] >= fixtures.FIRST_CREATED_AT and created[-1] <= fixtures.LAST_CREATED_AT


def test_size_extremes_occur_exactly_once(assistants: list[dict[str, Any]]) -> None:
    assert sum(len(a["instructions"] or "") == 256_000 for a in assistants) == 1
    assert sum(len(a["tools"]) == 128 for a in assistants) == 1
    longest = next(a for a in assistants if len(a["tools"]) == 128)
    names = [f["name"] for f in _functions(longest)]
    assert len(set(names)) == len(names)


def test_resource_ids_are_well_formed_and_shared(assistants: list[dict[str, Any]]) -> None:
    stores = Counter(vs for a in assistants for vs in _resources(a).get("file_search", {}).get("vector_store_ids", []))
    files = Counter(f for a in assistants for f in _file_ids(a) or [])
    assert all(re.fullmatch(r"vs_[A-Za-z0-9]{24}", vs) for vs in stores)
    assert all(re.fullmatch(r"file-[A-Za-z0-9]{24}", f) for f in files)
    assert max(stores.values()) >= 2 and max(files.values()) >= 2


def test_bundled_fixtures_are_deterministic_and_independent() -> None:
    first = bundled_assistants()
    first[0]["tools"].append({"type": "code_interpreter"})
    first[1]["metadata"] = {"mutated": "yes"}
    assert serialize_body(bundled_assistants()) == serialize_body(bundled_assistants())
    assert bundled_assistants()[1]["metadata"] != {"mutated": "yes"}


def test_invalid_assistants_are_all_invalid() -> None:
    bodies = invalid_assistants()
    assert len(bodies) >= 5
    for assistant_id, body in bodies.items():
        assert ASSISTANT_ID.fullmatch(assistant_id)
        assert not VALIDATOR.is_valid(body), assistant_id
        if isinstance(body, dict):
            assert body["id"] == assistant_id
    problems = {kind for body in bodies.values() for e in VALIDATOR.iter_errors(body) for kind in _kinds(e)}
    assert {"required", "type", "maximum", "enum", "maxItems", "maxLength"} <= problems


def _kinds(error: jsonschema.ValidationError) -> set[str]:
    """The failing keywords, including those inside anyOf/oneOf branches."""
    return {str(error.validator)} | {kind for sub in error.context or [] for kind in _kinds(sub)}


# --- StaticCatalog ---------------------------------------------------------------


def _walk(catalog: fixtures.Catalog, order: str, limit: int) -> list[str]:
    """Every ID, following after= cursors page by page."""
    ids: list[str] = []
    after = None
    while True:
        items, first_id, last_id, has_more = catalog.page(limit=limit, order=order, after=after, before=None)
        page_ids = [json.loads(item)["id"] for item in items]
        assert page_ids[:1] == ([first_id] if first_id else []) and page_ids[-1:] == ([last_id] if last_id else [])
        ids += page_ids
        if not has_more:
            return ids
        after = last_id


def test_static_catalog_serves_pre_serialized_bodies(assistants: list[dict[str, Any]]) -> None:
    catalog = StaticCatalog(assistants)
    assert len(catalog) == len(assistants)
    assert list(catalog.ids()) == [a["id"] for a in assistants]
    body = catalog.get(assistants[3]["id"])
    assert body == json.dumps(assistants[3], ensure_ascii=False, separators=(",", ":")).encode()
    assert catalog.get("asst_missing") is None


def test_static_catalog_pages_both_ways(assistants: list[dict[str, Any]]) -> None:
    catalog = StaticCatalog(reversed(assistants))
    ascending = [a["id"] for a in assistants]
    assert _walk(catalog, "asc", 7) == ascending
    assert _walk(catalog, "desc", 10) == ascending[::-1]
    items, first_id, last_id, has_more = catalog.page(limit=5, order="asc", after=None, before=ascending[20])
    assert [json.loads(i)["id"] for i in items] == ascending[15:20] and has_more
    assert (first_id, last_id) == (ascending[15], ascending[19])
    items, _, _, has_more = catalog.page(limit=5, order="desc", after=None, before=ascending[-3])
    assert [json.loads(i)["id"] for i in items] == ascending[::-1][:2] and not has_more
    assert catalog.page(limit=5, order="asc", after=ascending[-1], before=None) == ([], None, None, False)
    with pytest.raises(KeyError):
        catalog.page(limit=5, order="asc", after="asst_unknown", before=None)


def test_static_catalog_serves_any_body_under_a_given_id() -> None:
    catalog = StaticCatalog(
        {"asst_b": {"id": "asst_b", "created_at": "yesterday"}, "asst_a": [1, 2], "asst_c": {"created_at": 5}}
    )
    assert list(catalog.ids()) == ["asst_a", "asst_b", "asst_c"]
    assert catalog.get("asst_a") == b"[1,2]"
    assert StaticCatalog({"asst_raw": b"{not json"}).get("asst_raw") == b"{not json"


def test_static_catalog_rejects_duplicate_ids(assistants: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        StaticCatalog([assistants[0], assistants[0]])


# --- GeneratedCatalog -------------------------------------------------------------


def test_generated_catalog_is_deterministic() -> None:
    one, two = GeneratedCatalog(1_000, seed=3), GeneratedCatalog(1_000, seed=3)
    ids = list(one.ids())
    assert ids == list(two.ids()) and len(ids) == 1_000 == len(set(ids))
    assert all(ASSISTANT_ID.fullmatch(i) for i in ids)
    assert [one.get(i) for i in ids[::97]] == [two.get(i) for i in ids[::97]]
    assert GeneratedCatalog(1_000, seed=4).get(ids[5]) != one.get(ids[5])


def test_generated_catalog_pages_consistently() -> None:
    catalog = GeneratedCatalog(1_000)
    ids = list(catalog.ids())
    assert _walk(catalog, "asc", 100) == ids
    assert _walk(catalog, "desc", 37) == ids[::-1]
    items, first_id, last_id, has_more = catalog.page(limit=20, order="desc", after=None, before=ids[500])
    assert [json.loads(i)["id"] for i in items] == ids[520:500:-1] and has_more
    assert (first_id, last_id) == (ids[520], ids[501])
    created = [json.loads(b)["created_at"] for b in catalog.page(limit=100, order="asc", after=None, before=None)[0]]
    assert created == sorted(set(created))
    for cursor in ("asst_gen000000000000000001000", "asst_gen00000000000000000001", "asst_x", ids[0] + "0"):
        assert catalog.get(cursor) is None
        with pytest.raises(KeyError):
            catalog.page(limit=1, order="asc", after=cursor, before=None)


def test_generated_assistants_are_valid_and_realistic() -> None:
    catalog = GeneratedCatalog(1_000, seed=11)
    bodies = [catalog.get(i) for i in list(catalog.ids())[::5]]
    objects = [json.loads(b) for b in bodies if b is not None]
    for obj in objects:
        assert VALIDATOR.is_valid(obj), obj["id"]
        assert 200 <= len(obj["instructions"]) <= 3_000 and len(obj["tools"]) <= 6
        assert len(obj["metadata"] or {}) <= 5
    sizes = sorted(len(b or b"") for b in bodies)
    assert 1_000 <= sizes[len(sizes) // 2] <= 4_000
    assert {t["type"] for obj in objects for t in obj["tools"]} == {"function", "file_search", "code_interpreter"}
    assert catalog.build(7) == json.loads(catalog.get(list(catalog.ids())[7]) or b"")


def test_generated_catalog_builds_only_what_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = fixtures._generated_assistant

    def counting(seed: int, index: int, *args: Any) -> dict[str, Any]:
        built.append(index)
        return real(seed, index, *args)

    monkeypatch.setattr(fixtures, "_generated_assistant", counting)
    # Measured in bytes allocated, not seconds, so a loaded machine cannot fail it: a catalog of a billion
    # assistants costs nothing until asked.
    tracemalloc.start()
    try:
        huge = GeneratedCatalog(10**9)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20 and len(huge) == 10**9 and built == []
    items, first_id, _, has_more = huge.page(limit=50, order="desc", after=None, before=None)
    assert len(items) == 50 and has_more and first_id == "asst_gen000000000000999999999"
    assert huge.get("asst_gen000000000000123456789") is not None
    assert built == [*range(10**9 - 1, 10**9 - 51, -1), 123456789]
