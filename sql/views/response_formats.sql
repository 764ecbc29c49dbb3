-- Response formats of the live assistants, per source: how many use each type and, for json_schema, each schema name and strict flag.
--
-- response_format_type is null when the assistant has no response format (absent or null: the API
-- then uses `auto`); json_schema_name and strict are null for every type but json_schema.
CREATE OR REPLACE VIEW response_formats AS
SELECT source,
       response_format_type,
       response_format_json_schema_name AS json_schema_name,
       response_format_json_schema_strict AS strict,
       count(*) AS assistants,
       list_sort(list(assistant_id)) AS assistant_ids
FROM current_assistants
GROUP BY source, response_format_type, response_format_json_schema_name, response_format_json_schema_strict
ORDER BY source, assistants DESC, response_format_type NULLS LAST, json_schema_name NULLS LAST, strict NULLS LAST
