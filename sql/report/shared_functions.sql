-- Function names shared across live assistants: how many assistants of each source define a function by that name.
SELECT source, function_name, count(DISTINCT assistant_id) AS assistants
FROM current_tools
WHERE type = 'function' AND function_name IS NOT NULL
GROUP BY ALL
HAVING count(DISTINCT assistant_id) > 1
ORDER BY assistants DESC, source, function_name
LIMIT $top
