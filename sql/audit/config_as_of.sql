-- Time travel: every assistant's configuration as it was on a date, per source (live assistants only).
-- A version is valid from valid_from (inclusive) to valid_to (exclusive).
SELECT *
FROM assistant_history
WHERE valid_from <= $as_of
  AND (valid_to IS NULL OR valid_to > $as_of)
  AND NOT is_deleted
ORDER BY source, assistant_id
