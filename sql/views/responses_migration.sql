-- Every live assistant as a ready Responses API request body (JSON, without `input`), with migration warnings.
--
-- The mapping is not written here: connectors/migration/responses.py (to_responses_request) is its one
-- definition, and its answer for every stored payload is stored beside the payload in responses_mappings
-- (keyed by content_hash, written when the payload is first stored). This view joins the live assistants of
-- current_assistants to it. Columns: source, snapshot_date, assistant_id, name, description, created_at (Unix
-- seconds, as the API gave it), request (JSON), warnings (JSON array of {"code", "message"}).
-- Reasoning models are the default families of REASONING_MODELS (o1, o3, o4-mini, gpt-5); for
-- another list use `assistants-export migrate --reasoning-models`. A payload with no stored mapping (a
-- warehouse that predates the table: run `assistants-export upgrade`) has a null request and warnings.
-- Two stored copies of one payload (two runs, two sources) give one row: the newest mapping version, then the
-- earliest copy.
CREATE OR REPLACE VIEW responses_migration AS
SELECT a.source,
       a.snapshot_date,
       a.assistant_id,
       m.name,
       m.description,
       m.created_at,
       CAST(m.request AS JSON) AS request,
       CAST(m.warnings AS JSON) AS warnings
FROM current_assistants AS a
LEFT JOIN responses_mappings AS m ON m.content_hash = a.content_hash
QUALIFY row_number() OVER (PARTITION BY a.source, a.assistant_id
                           ORDER BY m.mapping_version DESC NULLS LAST, m.snapshot_date, m.source) = 1
ORDER BY a.source, a.assistant_id
