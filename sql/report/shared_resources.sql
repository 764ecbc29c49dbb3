-- Vector stores and code interpreter files referenced by live assistants, by how many assistants reference each
-- (the views vector_store_usage and file_usage).
SELECT * FROM (
    SELECT source, 'vector store' AS kind, vector_store_id AS resource_id, assistants FROM vector_store_usage
    UNION ALL
    SELECT source, 'file' AS kind, file_id AS resource_id, assistants FROM file_usage
)
ORDER BY assistants DESC, kind, source, resource_id
LIMIT $top
