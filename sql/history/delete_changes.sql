-- Empty the change log before loading all its partitions again (same transaction as the insert).
DELETE FROM assistant_changes
