-- Empty the SCD2 history before loading its rebuilt file (same transaction as the insert).
DELETE FROM assistant_history
