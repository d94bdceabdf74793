// writeback_recommended — one batch of materialised top-K lists as RECOMMENDED edges. The
// edges are created in item id order: creating an edge locks both its nodes, the users of two
// batches never overlap, so with the shared items always locked in the same order concurrent
// batches cannot deadlock.
//
// Parameters:
//   $rows     list of {user, items (list of ids, best first), scores (list<float>)}
//   $version  string  the model version the edges belong to
UNWIND $rows AS row
MATCH (u:User {id: row.user})
UNWIND range(0, size(row.items) - 1) AS k
MATCH (i:Item {id: row.items[k]})
WITH u, i, k, row
ORDER BY i.id
CREATE (u)-[:RECOMMENDED {model: $version, rank: k + 1, score: row.scores[k]}]->(i)
