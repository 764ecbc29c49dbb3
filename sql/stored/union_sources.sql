-- A stored table over every source's files, for a session on the stored files alone: the union is one
-- tag_source select per source, joined with UNION ALL BY NAME (relations this code registered).
CREATE OR REPLACE VIEW {table} AS {union}
