-- Tool types over time: on each snapshot date of the range, how many assistants fetched that day carry each type.
SELECT snapshot_date AS day, type, count(DISTINCT (source, assistant_id)) AS assistants
FROM assistant_tools
WHERE snapshot_date BETWEEN $from_date AND $to_date
GROUP BY ALL
ORDER BY day, type
