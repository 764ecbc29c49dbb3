-- Create a warehouse table with the columns of the registered empty Arrow batch `empty_batch`
-- (the table's Arrow schema from connectors/openai_assistants/schemas.py), if it does not exist yet.
CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM empty_batch LIMIT 0
