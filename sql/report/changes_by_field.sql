-- Change activity: field changes of updated assistants on each snapshot date of the range, by kind of field
-- (instructions, model, tools, tool resources, response format, metadata, sampling, other), every source summed.
SELECT snapshot_date AS day,
       CASE
           WHEN field = 'instructions' THEN 'instructions'
           WHEN field = 'model' THEN 'model'
           WHEN field = 'tools' OR field LIKE 'tools[%' THEN 'tools'
           WHEN field LIKE 'tool_resources%' THEN 'tool resources'
           WHEN field LIKE 'response_format%' THEN 'response format'
           WHEN field = 'metadata' OR field LIKE 'metadata.%' THEN 'metadata'
           WHEN field IN ('temperature', 'top_p') THEN 'sampling'
           ELSE 'other'
       END AS kind,
       count(*) AS changes
FROM assistant_changes
WHERE change_type = 'updated' AND field IS NOT NULL AND snapshot_date BETWEEN $from_date AND $to_date
GROUP BY ALL
ORDER BY day, kind
