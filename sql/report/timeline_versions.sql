-- Each assistant's timeline: every version that overlaps the range (valid_from up to $to_date, valid_to after
-- $from_date), with its name and model; one row per version.
SELECT source, assistant_id, valid_from, valid_to, is_deleted, name, model
FROM assistant_history
WHERE valid_from <= $to_date AND (valid_to IS NULL OR valid_to > $from_date)
ORDER BY source, assistant_id, valid_from
