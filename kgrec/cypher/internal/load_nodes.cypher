// load_nodes: create or update one batch of nodes of one label, keyed by `id`.
// Idempotent: a node is written only when it is new or one of the given properties differs,
// so re-running a load changes nothing. Properties absent from a row are left as they are.
// Returns the element ids of the nodes so relationships can be matched by elementId, which is
// about twice as fast as matching by `id` (see NEO4J_LOCAL.md).
// Slot: {{label:label}}. Parameters: $rows = [{id: STRING, props: MAP}].
UNWIND $rows AS row
OPTIONAL MATCH (old:{{label:label}} {id: row.id})
WITH row, old IS NOT NULL AND any(k IN keys(row.props) WHERE old[k] IS NULL OR old[k] <> row.props[k]) AS stale,
     old IS NULL AS fresh
MERGE (n:{{label:label}} {id: row.id})
FOREACH (_ IN CASE WHEN stale OR fresh THEN [1] ELSE [] END | SET n += row.props)
RETURN collect(row.id) AS ids, collect(elementId(n)) AS element_ids,
       sum(CASE WHEN stale THEN 1 ELSE 0 END) AS updated
