"""Rebuild assistant objects from the flattened tables alone, to prove nothing was lost.

``rebuild`` reads only the typed columns (never ``raw_json``); ``expected`` is
the source object in the form the columns promise to keep (absent and null are
one; ``{}`` and missing sub-objects are one; numbers normalised).
"""

import json
from collections import defaultdict

from assistants_export.connectors.core.hashing import normalize_numbers


def _put_extras(target, extras_json):
    _merge(target, json.loads(extras_json or "{}"))


def _merge(target, extras):
    for key, value in extras.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _merge(target[key], value)
        elif key in target and target[key] is None and isinstance(value, dict):
            target[key] = value
        else:
            target[key] = value


def rebuild(tables, assistant_id):
    """An assistant object from its rows in the four derived tables, ignoring raw_json."""
    row = next(r for r in tables["assistants"] if r["assistant_id"] == assistant_id)
    out = {
        "id": row["assistant_id"], "object": row["object"],
        "created_at": int(row["created_at"].timestamp()), "name": row["name"],
        "description": row["description"], "model": row["model"], "instructions": row["instructions"],
        "temperature": row["temperature"], "top_p": row["top_p"],
        "metadata": None if row["metadata"] is None else dict(row["metadata"]),
    }
    tools = sorted((t for t in tables["assistant_tools"] if t["assistant_id"] == assistant_id),
                   key=lambda t: t["tool_index"])
    out["tools"] = [_rebuild_tool(t) for t in tools]
    assert row["tool_count"] == len(tools)
    resources = {}
    if row["code_interpreter_file_ids"] is not None:
        resources["code_interpreter"] = {"file_ids": row["code_interpreter_file_ids"]}
    if row["file_search_vector_store_ids"] is not None:
        resources["file_search"] = {"vector_store_ids": row["file_search_vector_store_ids"]}
    out["tool_resources"] = resources or None
    rf_type = row["response_format_type"]
    if rf_type in (None, "auto"):
        out["response_format"] = rf_type
    else:
        out["response_format"] = {"type": rf_type}
        if rf_type == "json_schema":
            js = {"name": row["response_format_json_schema_name"],
                  "description": row["response_format_json_schema_description"],
                  "strict": row["response_format_json_schema_strict"]}
            if row["response_format_json_schema"] is not None:
                js["schema"] = json.loads(row["response_format_json_schema"])
            out["response_format"]["json_schema"] = js
    _put_extras(out, row["extra_fields"])
    rows_by_type = defaultdict(list)
    for r in tables["assistant_tool_resources"]:
        if r["assistant_id"] == assistant_id:
            rows_by_type[r["resource_type"]].append(r)
    for kind, column in (("code_interpreter_file", "code_interpreter_file_ids"),
                         ("file_search_vector_store", "file_search_vector_store_ids")):
        listed = [r["resource_id"] for r in sorted(rows_by_type[kind], key=lambda r: r["position"])]
        assert listed == (row[column] or [])
    metadata_rows = {r["key"]: r["value"] for r in tables["assistant_metadata"] if r["assistant_id"] == assistant_id}
    assert metadata_rows == (out["metadata"] or {})
    return out


def _rebuild_tool(t):
    tool = {"type": t["type"]}
    if t["type"] == "function":
        function = {"name": t["function_name"], "description": t["function_description"],
                    "strict": t["function_strict"]}
        if t["function_parameters"] is not None:
            function["parameters"] = json.loads(t["function_parameters"])
        tool["function"] = function
    elif t["type"] == "file_search":
        overrides = {}
        if t["file_search_max_num_results"] is not None:
            overrides["max_num_results"] = t["file_search_max_num_results"]
        if t["file_search_score_threshold"] is not None:
            overrides["ranking_options"] = {"score_threshold": t["file_search_score_threshold"],
                                            "ranker": t["file_search_ranker"]}
        tool["file_search"] = overrides
    _put_extras(tool, t["extra_fields"])
    return tool


def expected(payload):
    """What the columns promise to keep: absent and null are one, as are {} and missing sub-objects."""
    p = normalize_numbers(payload)
    out = {k: p.get(k) for k in ("id", "object", "created_at", "name", "description", "model", "instructions",
                                 "temperature", "top_p", "metadata", "response_format")}
    out["tools"] = [_expected_tool(t) for t in p["tools"]]
    resources = {}
    for kind, key in (("code_interpreter", "file_ids"), ("file_search", "vector_store_ids")):
        sub = (p.get("tool_resources") or {}).get(kind)
        if isinstance(sub, dict) and key in sub:
            resources[kind] = {key: sub[key]}
        if isinstance(sub, dict):
            for extra, value in sub.items():
                if extra != key:
                    resources.setdefault(kind, {})[extra] = value
    for extra, value in (p.get("tool_resources") or {}).items():
        if extra not in ("code_interpreter", "file_search"):
            resources[extra] = value
    out["tool_resources"] = resources or None
    rf = out["response_format"]
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        js = rf["json_schema"]
        rf["json_schema"] = {**js, "description": js.get("description"), "strict": js.get("strict")}
    for key, value in p.items():
        if key not in out:
            out[key] = value
    return out


def _expected_tool(tool):
    tool = dict(tool)
    if tool["type"] == "function":
        f = tool["function"]
        tool["function"] = {**f, "description": f.get("description"), "strict": f.get("strict")}
    elif tool["type"] == "file_search":
        overrides = dict(tool.get("file_search") or {})
        if "ranking_options" in overrides:
            ranking = overrides["ranking_options"]
            overrides["ranking_options"] = {**ranking, "ranker": ranking.get("ranker")}
        tool["file_search"] = overrides
    return tool


