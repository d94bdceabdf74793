// pull_node_ids — every node of one label as two aligned lists in one row: the internal node
// ids (what the relationship pulls return, so they stream integers, not strings) and the `id`
// properties. One row instead of one per node: the driver spends ~10 us per record.
//
// Returns: nodes (list of internal ids), ids (list of id properties).
//
// Parameters: none. Slot: {{label:label}} (checked against the allow-list).
MATCH (n:{{label:label}})
RETURN collect(id(n)) AS nodes, collect(n.id) AS ids
