-- What changed on a snapshot date, per source: every change row, whole-assistant rows (created/deleted/restored) first.
SELECT source, assistant_id, change_type, field, old_value, new_value
FROM assistant_changes
WHERE snapshot_date = $snapshot_date
ORDER BY source, assistant_id, field IS NOT NULL, field
