// embedding_recommendations — the user's best unseen items by the embeddings' estimate of the
// model's score (the user's embedding · the item's), found through the vector index: the index
// proposes the items nearest to the user's embedding in angle, 8 per item wanted and per item
// the user interacted with, and they are ranked by the dot product. The active :Model names the
// index and the embedding property. An approximation of the model's list (see README for how
// often the two agree); the exact list, kept current by the API, is recommendations.cypher.
//
// Returns: item_id, title, score (the embeddings' estimate of the model's score), rank.
//
// Parameters:
//   $user_id  string   the user (must have an embedding from the active model)
//   $k        integer  how many
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param k => 10
MATCH (m:Model {active: true})
MATCH (u:User {id: $user_id})
WITH m, u, u[m.embedding_property] AS query
WHERE query IS NOT NULL
WITH m, u, query, COUNT { (u)-[:INTERACTED]->() } AS seen
CALL db.index.vector.queryNodes(m.item_index, 8 * (toInteger($k) + seen), query) YIELD node AS i
WHERE NOT (u)-[:INTERACTED]->(i)
WITH i, query, i[m.embedding_property] AS e
WITH i, reduce(dot = 0.0, d IN range(0, size(query) - 1) | dot + query[d] * e[d]) AS score
ORDER BY score DESC
LIMIT toInteger($k)
WITH collect({item_id: i.id, title: i.title, score: score}) AS rows
UNWIND range(0, size(rows) - 1) AS idx
RETURN rows[idx].item_id AS item_id, rows[idx].title AS title, rows[idx].score AS score, idx + 1 AS rank
