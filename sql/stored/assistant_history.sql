-- assistant_history: each source's SCD2 versions joined to the configuration of their payloads.
CREATE OR REPLACE VIEW assistant_history AS
SELECT v.source, v.assistant_id, v.valid_from, v.valid_to, v.is_current, v.is_deleted, v.content_hash, p.object,
       p.created_at, p.name, p.description, p.model, p.instructions, p.temperature, p.top_p, p.response_format_type,
       p.response_format_json_schema_name, p.response_format_json_schema_description,
       p.response_format_json_schema_strict, p.response_format_json_schema, p.tool_count, p.metadata,
       p.code_interpreter_file_ids, p.file_search_vector_store_ids, p.extra_fields
FROM assistant_versions AS v
JOIN payload_home AS h ON h.content_hash = v.content_hash
JOIN payloads AS p
  ON p.content_hash = h.content_hash AND p.snapshot_date = h.stored_date AND p.source = h.stored_source
