-- Columns a table has now, to add the ones a newer schema defines.
SELECT column_name FROM information_schema.columns WHERE table_name = $table_name
