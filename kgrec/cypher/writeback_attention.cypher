// writeback_attention — one batch of learned attention onto the relationships of one type:
// per head node, a map from tail id to the attention of that relationship.
//
// Parameters:
//   $rows      list of {head, attention (map: tail id -> float)}
//   $property  string  the slot's attention property (e.g. attention_b)
// Slots: {{label:head}}, {{rel:type}}, {{label:tail}}.
UNWIND $rows AS row
MATCH (h:{{label:head}} {id: row.head})-[r:{{rel:type}}]->(t:{{label:tail}})
SET r[$property] = row.attention[t.id]
