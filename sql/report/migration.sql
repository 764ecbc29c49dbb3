-- Migration readiness: how many live assistants convert to a Responses API request with no warning, and the
-- warnings by code (the view responses_migration, the mapping of `assistants-export migrate --to responses`).
-- The row whose code is null holds the totals (assistants, ready, with_warnings); each other row one warning code
-- (warnings, and on how many assistants). The view is read once.
WITH m AS MATERIALIZED (
    SELECT source, assistant_id, CAST(warnings AS JSON[]) AS w FROM responses_migration
), codes AS (
    SELECT source, assistant_id, unnest(w) ->> '$.code' AS code FROM m
)
SELECT NULL AS code, count(*) AS assistants, count(*) FILTER (WHERE len(w) = 0) AS ready,
       count(*) FILTER (WHERE len(w) > 0) AS with_warnings, CAST(sum(len(w)) AS BIGINT) AS warnings
FROM m
UNION ALL
SELECT code, count(DISTINCT (source, assistant_id)), NULL, NULL, count(*)
FROM codes
GROUP BY code
ORDER BY code NULLS FIRST
