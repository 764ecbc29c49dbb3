-- How many tools of each type, and how many assistants use them, on a given snapshot date?
SELECT type, count(*) AS tools, count(DISTINCT assistant_id) AS assistants
FROM assistant_tools
WHERE snapshot_date = $snapshot_date
GROUP BY type
ORDER BY tools DESC
