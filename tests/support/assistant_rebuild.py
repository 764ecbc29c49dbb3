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
        if isinstance(target, list):  # an unknown key inside a list item: extras key it by the item's index
            _merge(target[int(key)], value)
            continue
        if isinstance(target.get(key), dict | list) and isinstance(value, dict):
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
    own_rows = [r for r in tables["assistant_tool_resources"] if r["assistant_id"] == assistant_id]
    _rebuild_foundry_resources(resources, own_rows)
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


def _by_position(rows, kind):
    return sorted((r for r in rows if r["resource_type"] == kind), key=lambda r: r["position"])


def _source(r):
    return {"uri": r["resource_id"], "type": r["asset_type"]}


def _rebuild_foundry_resources(resources, rows):
    """Foundry's resources from their ``assistant_tool_resources`` rows and columns alone."""
    sources = _by_position(rows, "code_interpreter_data_source")
    if sources:
        resources.setdefault("code_interpreter", {})["data_sources"] = [_source(r) for r in sources]
    stores = _by_position(rows, "file_search_vector_store_config")
    if stores:
        resources.setdefault("file_search", {})["vector_stores"] = [
            {"name": store["resource_id"], "configuration": {"data_sources": [
                _source(r) for r in _by_position(rows, "file_search_data_source")
                if r["vector_store_name"] == store["resource_id"]]}}
            for store in stores]
    indexes = _by_position(rows, "azure_ai_search_index")
    if indexes:
        resources["azure_ai_search"] = {"indexes": [
            {key: r[key] for key in ("index_connection_id", "index_name", "query_type", "top_k", "filter",
                                     "index_asset_id") if r[key] is not None} for r in indexes]}


def _function(t):
    function = {"name": t["function_name"], "description": t["function_description"],
                "strict": t["function_strict"]}
    if t["function_parameters"] is not None:
        function["parameters"] = json.loads(t["function_parameters"])
    return function


def _queue(t, direction):
    return {"type": "storage_queue", "storage_queue": {
        "queue_service_endpoint": t[f"azure_function_{direction}_queue_endpoint"],
        "queue_name": t[f"azure_function_{direction}_queue_name"]}}


def _rebuild_tool(t):
    tool = {"type": t["type"]}
    if t["type"] == "function":
        tool["function"] = _function(t)
    elif t["type"] == "azure_function":
        tool["azure_function"] = {"function": _function(t), "input_binding": _queue(t, "input"),
                                  "output_binding": _queue(t, "output")}
    elif t["type"] == "bing_grounding":
        configuration = {"connection_id": t["bing_connection_id"]}
        for key in ("market", "set_lang", "count", "freshness"):
            if t[f"bing_{key}"] is not None:
                configuration[key] = t[f"bing_{key}"]
        tool["bing_grounding"] = {"search_configurations": [configuration] if t["bing_connection_id"] else []}
    elif t["type"] == "connected_agent":
        tool["connected_agent"] = {"id": t["connected_agent_id"], "name": t["connected_agent_name"],
                                   "description": t["connected_agent_description"]}
    elif t["type"] == "openapi":
        auth = {"type": t["openapi_auth_type"]}
        if t["openapi_connection_id"] is not None:
            auth["security_scheme"] = {"connection_id": t["openapi_connection_id"]}
        if t["openapi_audience"] is not None:
            auth["security_scheme"] = {"audience": t["openapi_audience"]}
        openapi = {"name": t["openapi_name"], "description": t["openapi_description"],
                   "spec": json.loads(t["openapi_spec"]), "auth": auth}
        if t["openapi_default_params"] is not None:
            openapi["default_params"] = t["openapi_default_params"]
        if t["openapi_functions"] is not None:
            openapi["functions"] = json.loads(t["openapi_functions"])
        tool["openapi"] = openapi
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
                if extra != key and not (extra in ("data_sources", "vector_stores") and value == []):
                    # (an empty Foundry list leaves no row: absent and empty are one)
                    resources.setdefault(kind, {})[extra] = value
    for extra, value in (p.get("tool_resources") or {}).items():
        if extra not in ("code_interpreter", "file_search") and not (extra == "azure_ai_search" and (
                not value or not value.get("indexes"))):
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
    elif tool["type"] == "azure_function":
        f = tool["azure_function"]["function"]
        tool["azure_function"] = {**tool["azure_function"], "function": {
            **f, "description": f.get("description"), "strict": f.get("strict")}}
    elif tool["type"] == "openapi":
        tool["openapi"] = {**tool["openapi"], "description": tool["openapi"].get("description")}
    elif tool["type"] == "file_search":
        overrides = dict(tool.get("file_search") or {})
        if "ranking_options" in overrides:
            ranking = overrides["ranking_options"]
            overrides["ranking_options"] = {**ranking, "ranker": ranking.get("ranker")}
        tool["file_search"] = overrides
    return tool


