-- Assistants per model on every snapshot date of every source, with the tools they carry.
--
-- Counts every assistant fetched `ok` on the date (all dates are kept, so trends show); for the
-- models in use now, filter on the latest date or query current_assistants.
CREATE OR REPLACE VIEW model_usage AS
SELECT source, snapshot_date, model, count(*) AS assistants, CAST(sum(tool_count) AS BIGINT) AS tools
FROM assistants
GROUP BY source, snapshot_date, model
ORDER BY source, snapshot_date, assistants DESC, model
