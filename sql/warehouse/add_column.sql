-- Add a column a newer schema defines; older rows get NULL.
ALTER TABLE {table} ADD COLUMN {column} {column_type}
