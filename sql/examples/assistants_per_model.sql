-- Which models do the assistants of each source use, on a given snapshot date?
SELECT source, model, count(*) AS assistants, sum(tool_count) AS tools
FROM assistants
WHERE snapshot_date = $snapshot_date
GROUP BY source, model
ORDER BY source, assistants DESC, model
