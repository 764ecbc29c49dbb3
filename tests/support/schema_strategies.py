"""Hypothesis strategies generated from a JSON Schema.

hypothesis-jsonschema no longer runs on current Hypothesis (it relies on a
removed internal), so this translates the constructs the AssistantObject
schema uses: ``$ref`` into ``$defs``, ``anyOf``/``oneOf``, ``type`` (one or a
list), ``enum``, ``properties``/``required``, ``additionalProperties`` (``true``
or a schema), ``maxLength``/``minLength``, ``maxItems``/``minItems`` and
``minimum``/``maximum``. Anything else raises, so a schema change cannot be
silently under-generated.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

MAX_TEXT = 40
MAX_EXTRA_KEYS = 3
SUPPORTED = {"$ref", "$defs", "$schema", "$comment", "$id", "title", "description", "default", "anyOf", "oneOf",
             "type", "enum", "const", "properties", "required", "additionalProperties", "maxLength", "minLength",
             "maxItems", "minItems", "minimum", "maximum", "examples", "items"}

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False) | \
    st.text(max_size=MAX_TEXT)
any_json = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) |
                        st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)


_built: dict[int, tuple[dict[str, Any], st.SearchStrategy[Any]]] = {}
"""Strategies already built, per schema node (by identity; the node is kept so its id stays unique)."""


def from_schema(schema: dict[str, Any], root: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """A strategy for ``schema``, built once per schema node: drawing never rebuilds sub-strategies."""
    cached = _built.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    strategy = _build(schema, root or schema)
    _built[id(schema)] = (schema, strategy)
    return strategy


def _build(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise NotImplementedError(f"schema keywords not supported by the generator: {sorted(unknown)}")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return st.deferred(lambda: from_schema(root["$defs"][name], root))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(sub, root) for sub in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    types = schema.get("type")
    if types is None:
        return any_json
    if isinstance(types, list):
        return st.one_of([from_schema({**schema, "type": t}, root) for t in types])
    return _typed(types, schema, root)


def _typed(kind: str, schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=_bound(schema, "minimum", int), max_value=_bound(schema, "maximum", int))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False) | st.integers(
            min_value=None if low is None else int(-(-low // 1)), max_value=None if high is None else int(high // 1))
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", MAX_TEXT), MAX_TEXT))
    if kind == "array":
        items = from_schema(schema["items"], root) if "items" in schema else any_json
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object":
        return _object(schema, root)
    raise NotImplementedError(f"type {kind!r}")


def _bound(schema: dict[str, Any], key: str, cast: type) -> Any:
    return cast(schema[key]) if key in schema else None


@st.composite
def _object(draw: st.DrawFn, schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        if name in required or draw(st.booleans()):
            out[name] = draw(from_schema(sub, root))
    extra = schema.get("additionalProperties", True)
    if extra is not False:
        values = any_json if extra is True else from_schema(extra, root)
        keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in properties)
        out.update(draw(st.dictionaries(keys, values, max_size=MAX_EXTRA_KEYS)))
    return out
