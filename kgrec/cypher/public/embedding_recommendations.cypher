// embedding_recommendations — nearest items to the user's embedding through the vector index,
// excluding items the user already interacted with. The active :Model names the index and
// the embedding property. An approximation of the model's ranking: the user's embedding dotted
// with an item's approximates the model's score (a low-rank factorisation of the item messages),
// and the item embeddings carry one extra coordinate that makes the index's cosine order that
// dot product's order (see README for how often both lists agree); the exact list, kept current
// by the API, is recommendations.cypher.
//
// Returns: item_id, title, score (the index's cosine score in [0, 1], in the order of the
//          estimated model score), rank.
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
WHERE u[m.embedding_property] IS NOT NULL
WITH m, u, COUNT { (u)-[:INTERACTED]->() } AS seen
CALL db.index.vector.queryNodes(m.item_index, toInteger($k) + seen, u[m.embedding_property]) YIELD node AS i, score
WHERE NOT (u)-[:INTERACTED]->(i)
WITH i, score
ORDER BY score DESC
LIMIT toInteger($k)
WITH collect({item_id: i.id, title: i.title, score: score}) AS rows
UNWIND range(0, size(rows) - 1) AS idx
RETURN rows[idx].item_id AS item_id, rows[idx].title AS title, rows[idx].score AS score, idx + 1 AS rank
