-- The base tables of the database (not views), to find tables an older layout stored that are now views.
SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = current_schema()
