-- Drop the record of loaded change-log files kept before there were sources (it had no source column): the
-- next history load then loads every date again, tagged with its source.
DROP TABLE IF EXISTS history_change_files
