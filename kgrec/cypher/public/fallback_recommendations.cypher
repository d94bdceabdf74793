// fallback_recommendations — what a user gets while the model has nothing for them:
// the most popular items of the categories the user interacted with, then the most popular
// items overall, never an item the user already interacted with. Popularity is the number of
// INTERACTED relationships (a degree lookup, no scan of the relationships).
//
// Returns: item_id, title, score (popularity), rank.
//
// Parameters:
//   $user_id  string   the user (may be unknown to the graph: then overall popularity)
//   $k        integer  how many
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param k => 10
OPTIONAL MATCH (u:User {id: $user_id})
CALL (u) {
  MATCH (u)-[:INTERACTED]->(:Item)-[:IN_CATEGORY]->(c:Category)<-[:IN_CATEGORY]-(i:Item)
  WHERE NOT (u)-[:INTERACTED]->(i)
  WITH DISTINCT i
  RETURN i, 0 AS tier, COUNT { (i)<-[:INTERACTED]-() } AS popularity
  UNION
  MATCH (i:Item)
  WHERE u IS NULL OR NOT (u)-[:INTERACTED]->(i)
  RETURN i, 1 AS tier, COUNT { (i)<-[:INTERACTED]-() } AS popularity
}
WITH i, min(tier) AS tier, max(popularity) AS popularity
ORDER BY tier, popularity DESC, i.id
LIMIT toInteger($k)
WITH collect({item_id: i.id, title: i.title, score: toFloat(popularity)}) AS rows
UNWIND range(0, size(rows) - 1) AS idx
RETURN rows[idx].item_id AS item_id, rows[idx].title AS title, rows[idx].score AS score, idx + 1 AS rank
