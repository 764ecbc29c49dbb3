-- Drop a table an older layout stored that is now a view over the stored tables (Parquet holds its rows).
DROP TABLE IF EXISTS {table}
