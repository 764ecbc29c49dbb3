-- Attach the warehouse database read-only to a query session (views live in the session, not in the file).
ATTACH $path AS warehouse (READ_ONLY)
