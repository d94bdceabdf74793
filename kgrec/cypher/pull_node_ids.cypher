// pull_node_ids — the ids of every node with one label, streamed one row per node.
//
// Returns: id.
//
// Parameters: none. Slot: {{label:label}} (checked against the allow-list).
MATCH (n:{{label:label}})
RETURN n.id AS id
