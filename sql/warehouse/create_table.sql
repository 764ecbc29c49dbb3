-- Create a warehouse table with the columns of its Arrow schema (connectors/core/schemas.py), if it
-- does not exist yet; {columns} is built from the schema's names and DuckDB's types for them, checked and quoted.
CREATE TABLE IF NOT EXISTS {table} ({columns})
