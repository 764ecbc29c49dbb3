-- Empty one source's SCD2 versions before loading their rebuilt file (same transaction as the insert).
DELETE FROM assistant_versions WHERE source = $source
