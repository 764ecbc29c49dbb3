-- Instructions of the live assistants: length in characters, and the other live assistants of the source with identical text.
--
-- instructions_length counts Unicode code points; duplicates is how many other live assistants of the
-- same source have exactly the same instructions, and same_instructions_as names them. All three are null when the
-- assistant has no instructions (null); an empty string is text like any other.
CREATE OR REPLACE VIEW instruction_stats AS
WITH live AS (
    SELECT source, snapshot_date, assistant_id, name, model, instructions FROM current_assistants
), twins AS (
    SELECT x.source, x.assistant_id, list_sort(list(y.assistant_id)) AS same_instructions_as
    FROM live AS x
    JOIN live AS y
      ON y.source = x.source AND y.instructions = x.instructions AND y.assistant_id <> x.assistant_id
    GROUP BY x.source, x.assistant_id
)
SELECT l.source, l.snapshot_date, l.assistant_id, l.name, l.model,
       length(l.instructions) AS instructions_length,
       CASE WHEN l.instructions IS NOT NULL THEN coalesce(len(t.same_instructions_as), 0) END AS duplicates,
       CASE WHEN l.instructions IS NOT NULL THEN coalesce(t.same_instructions_as, []) END AS same_instructions_as
FROM live AS l
LEFT JOIN twins AS t ON t.source = l.source AND t.assistant_id = l.assistant_id
ORDER BY l.source, duplicates DESC, instructions_length DESC, l.assistant_id
