-- Every change row of one assistant, oldest first (the detail behind its timeline).
SELECT snapshot_date, change_type, field, old_value, new_value
FROM assistant_changes
WHERE assistant_id = $assistant_id
ORDER BY snapshot_date, field IS NOT NULL, field
