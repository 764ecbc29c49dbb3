-- Assistants deleted in the N days up to a date (the date included), per source, with their last known name and model.
SELECT c.source, c.snapshot_date AS deleted_on, c.assistant_id,
       c.old_value ->> 'name' AS last_name, c.old_value ->> 'model' AS last_model
FROM assistant_changes AS c
WHERE c.change_type = 'deleted'
  AND c.snapshot_date > $as_of - to_days(CAST($days AS INTEGER))
  AND c.snapshot_date <= $as_of
ORDER BY c.source, deleted_on, c.assistant_id
