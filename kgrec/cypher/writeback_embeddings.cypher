// writeback_embeddings — one batch of node embeddings into a slot property, stored as float32:
// the precision the model computes in, and half the bytes (and store writes) of doubles.
//
// Parameters:
//   $ids         list<string>       node ids
//   $embeddings  list<list<float>>  the embedding of each id, in the same order
//   $property    string             the slot's embedding property (e.g. embedding_b)
// Slot: {{label:label}}.
UNWIND range(0, size($ids) - 1) AS k
MATCH (n:{{label:label}} {id: $ids[k]})
CALL db.create.setNodeVectorProperty(n, $property, $embeddings[k])
