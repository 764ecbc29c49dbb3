-- assistants: each source's membership of each date joined to the flattened payloads.
CREATE OR REPLACE VIEW assistants AS
SELECT m.source, m.snapshot_date, m.assistant_id, m.fetched_at AS snapshot_at, p.object, p.created_at, p.name,
       p.description, p.model, p.instructions, p.temperature, p.top_p, p.response_format_type,
       p.response_format_json_schema_name, p.response_format_json_schema_description,
       p.response_format_json_schema_strict, p.response_format_json_schema, p.tool_count, p.metadata,
       p.code_interpreter_file_ids, p.file_search_vector_store_ids, p.extra_fields, m.content_hash, p.raw_json
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payloads AS p
  ON p.content_hash = h.content_hash AND p.snapshot_date = h.stored_date AND p.source = h.stored_source
