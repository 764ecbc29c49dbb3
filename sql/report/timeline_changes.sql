-- The field-level changes behind each timeline: every row of assistant_changes in the range, newest first
-- (the report keeps the values of the newest ones when it has to leave some out).
SELECT source, assistant_id, snapshot_date AS day, change_type, field, old_value, new_value
FROM assistant_changes
WHERE snapshot_date BETWEEN $from_date AND $to_date
ORDER BY snapshot_date DESC, source, assistant_id, field NULLS FIRST
