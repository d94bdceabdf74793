// writeback_embeddings — one batch of node embeddings into a slot property, stored as float32:
// the precision the model computes in, and half the bytes (and store writes) of doubles.
// Nodes are sought by internal id, read just before (a third less server time than the id
// index); the label and id property are checked in a subquery, in case Neo4j reused the
// internal id meanwhile (written in the MATCH, the planner would use the id index instead).
// The label is a parameter, so one batch may hold nodes of several labels.
//
// Returns: written (embeddings stored; the activation checks the slot holds all of them).
//
// Parameters:
//   $nodes       list<integer>      internal node ids
//   $labels      list<string>       the label of each node, in the same order
//   $ids         list<string>       the id property of each node, in the same order
//   $embeddings  list<list<float>>  the embedding of each node, in the same order
//   $property    string             the slot's embedding property (e.g. embedding_b)
UNWIND range(0, size($nodes) - 1) AS k
MATCH (n)
WHERE id(n) = $nodes[k]
CALL (n, k) {
  WITH n
  WHERE $labels[k] IN labels(n) AND n.id = $ids[k]
  CALL db.create.setNodeVectorProperty(n, $property, $embeddings[k])
  RETURN true AS stored
}
RETURN count(stored) AS written
