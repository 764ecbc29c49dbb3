-- Connected agents as a graph: one row per edge, a live agent (the caller) that calls another agent as a tool
-- (Foundry's connected_agent tool), per source. The callee's own row is joined when it is a live agent of the
-- same source; callee_live is false for a call to an agent that is deleted or was never snapshotted.
CREATE OR REPLACE VIEW connected_agents AS
SELECT t.source,
       t.assistant_id AS caller_id,
       t.assistant_name AS caller_name,
       t.tool_index,
       t.connected_agent_id AS callee_id,
       t.connected_agent_name AS called_as,
       t.connected_agent_description AS description,
       callee.name AS callee_name,
       callee.model AS callee_model,
       callee.assistant_id IS NOT NULL AS callee_live
FROM current_tools AS t
LEFT JOIN current_assistants AS callee
  ON callee.source = t.source AND callee.assistant_id = t.connected_agent_id
WHERE t.type = 'connected_agent'
ORDER BY t.source, caller_id, t.tool_index
