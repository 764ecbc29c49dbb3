-- Model and instruction changes in a period (both dates included).
SELECT snapshot_date, assistant_id, field, old_value, new_value
FROM assistant_changes
WHERE field IN ('model', 'instructions')
  AND snapshot_date BETWEEN $from_date AND $to_date
ORDER BY snapshot_date, assistant_id, field
