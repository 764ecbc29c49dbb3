-- Every function tool of the live assistants with its parameters: name, JSON type, required flag, description.
--
-- One row per top-level parameter (a key of the function's `parameters.properties`), and one row
-- with a null parameter for a function that takes none. parameter_type is the parameter's JSON
-- Schema `type` as written (a union such as ["string","null"] appears as that JSON array; null when
-- the schema gives no `type`, e.g. only `enum` or `anyOf`); parameter_schema is its whole schema as
-- JSON text. required is null exactly when parameter is. Restricted to each live assistant's latest
-- snapshot (see current_assistants); snapshot_date says which one.
CREATE OR REPLACE VIEW function_catalog AS
SELECT t.source, t.snapshot_date, t.assistant_id, t.assistant_name, t.tool_index, t.function_name,
       t.function_description, t.function_strict,
       p.key AS parameter,
       p.value ->> '$.type' AS parameter_type,
       CASE WHEN p.key IS NOT NULL
            THEN coalesce(list_contains(json_extract_string(t.function_parameters, '$.required[*]'), p.key), false)
       END AS required,
       p.value ->> '$.description' AS parameter_description,
       CAST(p.value AS VARCHAR) AS parameter_schema
FROM current_tools AS t
LEFT JOIN LATERAL json_each(t.function_parameters, '$.properties') AS p ON true
WHERE t.type = 'function'
ORDER BY t.source, t.assistant_id, t.tool_index, p.key
