-- The views the attached database's last load recorded: each one's name, the fingerprint recorded for it, and the
-- view's comment (the same fingerprint while no load by another version has replaced the view since).
SELECT c.view_name, c.fingerprint, v.comment
FROM warehouse.main.view_catalog AS c
LEFT JOIN duckdb_views() AS v
    ON v.database_name = 'warehouse' AND v.schema_name = 'main' AND v.view_name = c.view_name
