-- The most-changed assistants of the range: on how many dates they were updated, and how many field changes.
SELECT c.source, c.assistant_id, any_value(h.name) AS name,
       count(DISTINCT c.snapshot_date) AS days_changed, count(*) AS field_changes
FROM assistant_changes AS c
LEFT JOIN assistant_history AS h
       ON h.source = c.source AND h.assistant_id = c.assistant_id AND h.is_current
WHERE c.change_type = 'updated' AND c.snapshot_date BETWEEN $from_date AND $to_date
GROUP BY c.source, c.assistant_id
ORDER BY days_changed DESC, field_changes DESC, c.source, c.assistant_id
LIMIT $top
