-- The views the last load created in assistants.duckdb (one row each), with the fingerprint of the SQL files that
-- defined them, so that a query session can use them as they are
-- (assistants_export.connectors.warehouse.views.record_views).
CREATE TABLE IF NOT EXISTS view_catalog (view_name VARCHAR, fingerprint VARCHAR)
