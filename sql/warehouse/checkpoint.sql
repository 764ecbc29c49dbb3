-- Write the WAL into the database file and reuse the space of replaced rows, so the file keeps the size of its data.
CHECKPOINT
