-- The first date the history knows, in any source (null when it is empty).
SELECT min(valid_from) AS first_date
FROM assistant_history
