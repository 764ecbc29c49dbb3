-- Which models do the assistants use, on a given snapshot date?
SELECT model, count(*) AS assistants, sum(tool_count) AS tools
FROM assistants
WHERE snapshot_date = $snapshot_date
GROUP BY model
ORDER BY assistants DESC, model
