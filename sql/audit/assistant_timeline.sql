-- The timeline of one assistant (in every source that has it): each version, what it was, and how many fields changed when it began.
SELECT h.source, h.valid_from, h.valid_to, h.is_current, h.is_deleted, h.name, h.model, h.tool_count, h.content_hash,
       coalesce(max(c.change_type), 'updated') AS change_type,
       count(c.field) AS fields_changed,
       list(c.field ORDER BY c.field) FILTER (WHERE c.field IS NOT NULL) AS fields
FROM assistant_history AS h
LEFT JOIN assistant_changes AS c
       ON c.source = h.source AND c.assistant_id = h.assistant_id AND c.snapshot_date = h.valid_from
WHERE h.assistant_id = $assistant_id
GROUP BY ALL
ORDER BY h.source, h.valid_from
