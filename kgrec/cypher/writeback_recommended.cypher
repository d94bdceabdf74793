// writeback_recommended — one batch of materialised top-K lists as RECOMMENDED edges. Batches
// run one at a time: creating edges locks the shared item nodes (and relationship records of
// dense ones), and concurrent batches deadlock.
//
// Returns: written (edges created).
//
// Parameters:
//   $rows     list of {user, items (list of ids, best first), scores (list<float>)}
//   $version  string  the model version the edges belong to
UNWIND $rows AS row
MATCH (u:User {id: row.user})
UNWIND range(0, size(row.items) - 1) AS k
MATCH (i:Item {id: row.items[k]})
CREATE (u)-[:RECOMMENDED {model: $version, rank: k + 1, score: row.scores[k]}]->(i)
RETURN count(*) AS written
