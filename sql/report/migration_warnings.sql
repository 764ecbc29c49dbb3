-- The migration warnings of the live assistants by code: how many warnings, and on how many assistants.
WITH w AS (
    SELECT source, assistant_id, unnest(CAST(warnings AS JSON[])) ->> '$.code' AS code
    FROM responses_migration
)
SELECT code, count(*) AS warnings, count(DISTINCT (source, assistant_id)) AS assistants
FROM w
GROUP BY code
ORDER BY warnings DESC, code
