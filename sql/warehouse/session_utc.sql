-- Show TIMESTAMPTZ values in UTC whatever the machine's zone, so results are the same everywhere.
SET TimeZone = 'UTC'
