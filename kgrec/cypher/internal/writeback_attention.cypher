// writeback_attention — one batch of learned attention onto the relationships of one type:
// per head node, a map from tail id to the attention of that relationship.
//
// Returns: written (relationships given an attention value).
//
// Parameters:
//   $rows      list of {head, attention (map: tail id -> float)}
//   $property  string  the slot's attention property (e.g. attention_b)
// Slots: {{label:head}}, {{rel:type}}, {{label:tail}}.
UNWIND $rows AS row
MATCH (h:{{label:head}} {id: row.head})-[r:{{rel:type}}]->(t:{{label:tail}})
WITH r, row.attention[t.id] AS value
WHERE value IS NOT NULL
SET r[$property] = value
RETURN count(r) AS written
