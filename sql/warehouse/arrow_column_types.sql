-- DuckDB's type for every column of the registered empty Arrow batch `empty_batch`.
SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM empty_batch)
