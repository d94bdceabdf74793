// missing_items — which of the given item ids are not in the graph.
//
// Returns: missing (list of ids).
//
// Parameters:
//   $item_ids  list<string>
UNWIND $item_ids AS item_id
OPTIONAL MATCH (i:Item {id: item_id})
WITH item_id, i
WHERE i IS NULL
RETURN collect(DISTINCT item_id) AS missing
