-- The first and last dates the history knows (both null when it is empty).
SELECT min(valid_from) AS first_date, max(coalesce(valid_to, valid_from)) AS last_date
FROM assistant_history
