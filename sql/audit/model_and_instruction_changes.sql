-- Model and instruction changes in a period (both dates included), per source.
SELECT source, snapshot_date, assistant_id, field, old_value, new_value
FROM assistant_changes
WHERE field IN ('model', 'instructions')
  AND snapshot_date BETWEEN $from_date AND $to_date
ORDER BY source, snapshot_date, assistant_id, field
