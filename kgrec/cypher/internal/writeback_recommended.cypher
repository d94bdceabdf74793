// writeback_recommended — one batch of materialised top-K lists as RECOMMENDED edges. Batches
// run one at a time: creating edges locks the shared item nodes (and relationship records of
// dense ones), and concurrent batches deadlock. Users and items are sought by internal id, read
// just before (cheaper for the server than the id index); the label and id property are checked
// in a subquery, in case Neo4j reused the internal id meanwhile (the write-back's verification
// then finds edges missing and does not activate the model).
//
// Returns: written (edges created).
//
// Parameters:
//   $rows     list of {node (internal id), user (id), history (how many interactions of the user the
//                      list is computed from), edges: list of {node, item, rank, score, evidence (the
//                      user's item ids that contribute most, strongest first), evidence_weights (their
//                      contributions), evidence_channels, evidence_links (how the first ones split, see
//                      explain.cypher)}, best first}; the evidence keys may be absent (no property then)
//   $version  string  the model version the edges belong to
UNWIND $rows AS row
MATCH (n)
WHERE id(n) = row.node
CALL (n, row) {
  WITH n
  WHERE n:User AND n.id = row.user
  RETURN n AS u
}
SET u.recommended_by = $version, u.recommended_history = row.history
WITH u, row
UNWIND row.edges AS edge
MATCH (n)
WHERE id(n) = edge.node
CALL (n, edge) {
  WITH n
  WHERE n:Item AND n.id = edge.item
  RETURN n AS i
}
// every property in the CREATE: one write of the new relationship (a SET afterwards is another)
CREATE (u)-[:RECOMMENDED {model: $version, rank: edge.rank, score: edge.score, evidence: edge.evidence,
                          evidence_weights: edge.evidence_weights, evidence_channels: edge.evidence_channels,
                          evidence_links: edge.evidence_links}]->(i)
RETURN count(*) AS written
