-- Migration readiness: how many live assistants convert to a Responses API request with no warning (the view
-- responses_migration, the mapping of `assistants-export migrate --to responses`).
SELECT count(*) AS assistants,
       count(*) FILTER (WHERE json_array_length(warnings) = 0) AS ready,
       count(*) FILTER (WHERE json_array_length(warnings) > 0) AS with_warnings
FROM responses_migration
