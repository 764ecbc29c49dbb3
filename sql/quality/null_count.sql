-- Nulls in one required column of the registered partition `partition_rows`.
SELECT count(*) FROM partition_rows WHERE {column} IS NULL
