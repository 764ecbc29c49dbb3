"""Field-level differences between two versions of an assistant.

Paths name what changed the way a person would point at it::

    model                                   a top-level field
    metadata.team                           one metadata key (metadata["a.b"] when the key is not a plain name)
    tools[2]                                a tool added (new index) or removed (old index)
    tools[2].function.parameters            one field of a tool present in both versions
    tools                                   the same tools in a new order
    tool_resources.file_search.vector_store_ids
    response_format.json_schema.strict

Tools are matched by identity, not position (a function by its name, the other
types by type), so inserting a tool at the front reports one added tool instead
of every tool changed. Free-form JSON (function parameters, a response JSON
schema: :data:`~assistants_export.connectors.core.assistant_model.WHOLE_VALUES`, from the one model of
the Assistant) and lists are compared whole. Values are compared after
:func:`normalize_numbers` and object keys are unordered, so a reordered
metadata map is no change.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistants_export.connectors.core.assistant_model import WHOLE_VALUES
from assistants_export.connectors.core.hashing import canonical_json, normalize_numbers

IGNORED_FIELDS = frozenset({"id"})
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed path; ``old``/``new`` are canonical JSON text, ``None`` when absent."""

    path: str
    old: str | None
    new: str | None


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Every changed path between two payloads, in a stable order."""
    old, new = normalize_numbers(old), normalize_numbers(new)
    return list(_diff_objects(old, new, "", top_level=True))


def _diff_objects(old: dict[str, Any], new: dict[str, Any], prefix: str, *, top_level: bool = False,
                  per_key: bool = False) -> Iterator[FieldChange]:
    for key in _ordered_keys(old, new):
        if top_level and key in IGNORED_FIELDS:
            continue
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if _same(before, after):
            continue
        path = _join(prefix, key, quote=per_key)
        if top_level and key == "tools" and isinstance(before, list) and isinstance(after, list):
            yield from _diff_tools(before, after)
        elif top_level and key == "metadata" and isinstance(before, dict) and isinstance(after, dict):
            yield from _diff_objects(before, after, path, per_key=True)
        elif isinstance(before, dict) and isinstance(after, dict) and key not in WHOLE_VALUES and not per_key:
            yield from _diff_objects(before, after, path)
        else:
            yield _change(path, before, after)


def _diff_tools(old: list[Any], new: list[Any]) -> Iterator[FieldChange]:
    old_keys, new_keys = _tool_keys(old), _tool_keys(new)
    old_at = {key: i for i, key in enumerate(old_keys)}
    new_at = {key: i for i, key in enumerate(new_keys)}
    for i, key in enumerate(new_keys):
        if key in old_at:
            before, after = old[old_at[key]], new[i]
            if not _same(before, after):
                if isinstance(before, dict) and isinstance(after, dict):
                    yield from _diff_objects(before, after, f"tools[{i}]")
                else:
                    yield _change(f"tools[{i}]", before, after)
        else:
            yield _change(f"tools[{i}]", _MISSING, new[i])
    for i, key in enumerate(old_keys):
        if key not in new_at:
            yield _change(f"tools[{i}]", old[i], _MISSING)
    kept_old = [k for k in old_keys if k in new_at]
    kept_new = [k for k in new_keys if k in old_at]
    if kept_old != kept_new:
        yield FieldChange("tools", canonical_json(kept_old), canonical_json(kept_new))


def _same(before: Any, after: Any) -> bool:
    """Equal as JSON: unlike ``==``, ``true`` is not ``1``, but key order still does not matter."""
    if before is _MISSING or after is _MISSING:
        return before is after
    return before == after and canonical_json(before) == canonical_json(after)


def _tool_keys(tools: list[Any]) -> list[str]:
    """An identity per tool: ``function:NAME`` (Foundry's ``openapi:NAME``, ``azure_function:NAME``,
    ``connected_agent:ID`` too) or the type, numbered when repeated (``#2``)."""
    seen: Counter[str] = Counter()
    keys = []
    for tool in tools:
        named = _named_tool(tool)
        if named is not None:
            key = named
        elif isinstance(tool, dict):
            key = str(tool.get("type"))
        else:
            key = canonical_json(tool)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def _named_tool(tool: Any) -> str | None:
    """``TYPE:NAME`` for a tool that names what it calls, else ``None``."""
    if not isinstance(tool, dict):
        return None
    kind = tool.get("type")
    if kind == "function" and isinstance(tool.get("function"), dict):
        return f"function:{tool['function'].get('name')}"
    if kind == "openapi" and isinstance(tool.get("openapi"), dict):
        return f"openapi:{tool['openapi'].get('name')}"
    if kind == "connected_agent" and isinstance(tool.get("connected_agent"), dict):
        return f"connected_agent:{tool['connected_agent'].get('id')}"
    if kind == "azure_function" and isinstance(tool.get("azure_function"), dict):
        function = tool["azure_function"].get("function")
        if isinstance(function, dict):
            return f"azure_function:{function.get('name')}"
    return None


def _ordered_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys in the order the new version has them, then the removed ones, so output is stable."""
    return list(new) + sorted(k for k in old if k not in new)


def _join(prefix: str, key: str, *, quote: bool) -> str:
    if quote and not _PLAIN_KEY.match(key):
        return f"{prefix}[{canonical_json(key)}]"
    return f"{prefix}.{key}" if prefix else key


def _change(path: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(path, None if before is _MISSING else canonical_json(before),
                       None if after is _MISSING else canonical_json(after))
