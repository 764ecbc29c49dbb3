-- How many tools of each type, and how many assistants use them, per source on a given snapshot date?
SELECT source, type, count(*) AS tools, count(DISTINCT assistant_id) AS assistants
FROM assistant_tools
WHERE snapshot_date = $snapshot_date
GROUP BY source, type
ORDER BY source, tools DESC, type
