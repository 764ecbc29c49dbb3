-- Every change row of one assistant (in every source that has it), oldest first (the detail behind its timeline).
SELECT source, snapshot_date, change_type, field, old_value, new_value
FROM assistant_changes
WHERE assistant_id = $assistant_id
ORDER BY source, snapshot_date, field IS NOT NULL, field
