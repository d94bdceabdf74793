// writeback_embeddings — one batch of node embeddings into a slot property.
//
// Parameters:
//   $rows      list of {id, embedding (list<float>)}
//   $property  string  the slot's embedding property (e.g. embedding_b)
// Slot: {{label:label}}.
UNWIND $rows AS row
MATCH (n:{{label:label}} {id: row.id})
SET n[$property] = row.embedding
