// writeback_recommended — one batch of materialised top-K lists as RECOMMENDED edges. Batches
// run one at a time: creating edges locks the shared item nodes (and relationship records of
// dense ones), and concurrent batches deadlock.
//
// Returns: written (edges created).
//
// Parameters:
//   $rows     list of {user, items (list of ids, best first), scores (list<float>),
//                      evidence (per item: the user's item ids that contribute most, strongest first; may be []),
//                      weights (per item: their contributions to the score),
//                      channels (per item: {collaborative, link_types, link_entities, link_parts}: how each
//                                contribution splits, see explain.cypher),
//                      history (how many interactions of the user the list is computed from)}
//   $version  string  the model version the edges belong to
UNWIND $rows AS row
MATCH (u:User {id: row.user})
SET u.recommended_by = $version, u.recommended_history = row.history
WITH u, row
UNWIND range(0, size(row.items) - 1) AS k
MATCH (i:Item {id: row.items[k]})
CREATE (u)-[rec:RECOMMENDED {model: $version, rank: k + 1, score: row.scores[k]}]->(i)
FOREACH (_ IN CASE WHEN size(row.evidence) > k THEN [1] ELSE [] END |
  SET rec.evidence = row.evidence[k], rec.evidence_weights = row.weights[k],
      rec.evidence_collaborative = row.channels[k].collaborative,
      rec.evidence_link_types = row.channels[k].link_types,
      rec.evidence_link_entities = row.channels[k].link_entities,
      rec.evidence_link_parts = row.channels[k].link_parts)
RETURN count(*) AS written
