-- Tools added to or removed from existing assistants in a period (both dates included), per source.
SELECT source, snapshot_date, assistant_id,
       CASE WHEN old_value IS NULL THEN 'added' ELSE 'removed' END AS action,
       field,
       coalesce(new_value, old_value) ->> 'type' AS tool_type,
       coalesce(new_value, old_value) ->> '$.function.name' AS function_name
FROM assistant_changes
WHERE regexp_full_match(field, 'tools\[[0-9]+\]')
  AND (old_value IS NULL OR new_value IS NULL)
  AND snapshot_date BETWEEN $from_date AND $to_date
ORDER BY source, snapshot_date, assistant_id, field
