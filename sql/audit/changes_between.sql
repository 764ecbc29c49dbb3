-- A summary of changes after one date up to another: one row per source and assistant that changed.
SELECT c.source,
       c.assistant_id,
       any_value(h.name) AS name,
       string_agg(DISTINCT c.change_type, ', ' ORDER BY c.change_type) AS change_types,
       count(c.field) AS field_changes,
       string_agg(DISTINCT c.field, ', ' ORDER BY c.field) AS fields
FROM assistant_changes AS c
LEFT JOIN assistant_history AS h
       ON h.source = c.source AND h.assistant_id = c.assistant_id AND h.valid_from <= $to_date
      AND (h.valid_to IS NULL OR h.valid_to > $to_date)
WHERE c.snapshot_date > $from_date AND c.snapshot_date <= $to_date
GROUP BY c.source, c.assistant_id
ORDER BY c.source, c.assistant_id
