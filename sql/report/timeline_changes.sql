-- The field-level changes behind each timeline: every row of assistant_changes in the range, newest first
-- (the report keeps the values of the newest ones when it has to leave some out). A row about a whole assistant
-- (created, deleted, restored) comes without its values: its version on the timeline shows what it was.
SELECT source, assistant_id, snapshot_date AS day, change_type, field,
       CASE WHEN field IS NOT NULL THEN old_value END AS old_value,
       CASE WHEN field IS NOT NULL THEN new_value END AS new_value
FROM assistant_changes
WHERE snapshot_date BETWEEN $from_date AND $to_date
ORDER BY snapshot_date DESC, source, assistant_id, field NULLS FIRST
