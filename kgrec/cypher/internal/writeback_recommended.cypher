// writeback_recommended — one batch of materialised top-K lists as RECOMMENDED edges. Two
// batches run at once without deadlocking: their users differ, and each batch creates its edges
// in the order of their items' internal ids, so the item nodes two batches share are locked in
// one order. Users and items are sought by internal id, read just before (cheaper for the server
// than the id index); the label and id property are checked in a subquery, in case Neo4j reused
// the internal id meanwhile (the write-back's verification then finds edges missing and does not
// activate the model).
//
// Returns: written (edges created).
//
// Parameters:
//   $rows     list of {node (internal id), user (id), history (how many interactions of the user the
//                      list is computed from)}
//   $edges    list of {user (internal id of the user node), user_id, node, item, rank, score, evidence
//                      (the user's item ids that contribute most, strongest first), evidence_weights
//                      (their contributions), evidence_channels, evidence_links (how the first ones
//                      split), evidence_co_raters, evidence_co_rater (their co-raters; see
//                      explain.cypher)}, in the order of node; the evidence keys may be absent (no
//                      property then)
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
WITH count(*) AS users
UNWIND $edges AS edge
MATCH (u)
WHERE id(u) = edge.user
MATCH (n)
WHERE id(n) = edge.node
CALL (u, n, edge) {
  WITH u, n
  WHERE u:User AND u.id = edge.user_id AND n:Item AND n.id = edge.item
  RETURN n AS i
}
// every property in the CREATE: one write of the new relationship (a SET afterwards is another)
CREATE (u)-[:RECOMMENDED {model: $version, rank: edge.rank, score: edge.score, evidence: edge.evidence,
                          evidence_weights: edge.evidence_weights, evidence_channels: edge.evidence_channels,
                          evidence_links: edge.evidence_links, evidence_co_raters: edge.evidence_co_raters,
                          evidence_co_rater: edge.evidence_co_rater}]->(i)
RETURN count(*) AS written
