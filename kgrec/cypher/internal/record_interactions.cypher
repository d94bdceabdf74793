// record_interactions — store new interactions from the API (one transaction per request).
// Users are created when new; items must exist (checked first with missing_items.cypher).
// One INTERACTED relationship per (user, item): a repeated interaction updates it. The user's
// stored recommendations stop being current (recommendation_state.cypher), so the API folds the
// user in again on the next request.
//
// Returns: recorded (number of rows written).
//
// Parameters:
//   $rows  list of {user_id, item_id, weight, rating (or null), ts (or null)}
UNWIND $rows AS row
MATCH (i:Item {id: row.item_id})
MERGE (u:User {id: row.user_id})
MERGE (u)-[r:INTERACTED]->(i)
SET r.weight = row.weight,
    r.rating = coalesce(row.rating, r.rating),
    r.ts = coalesce(row.ts, r.ts),
    u.recommended_history = null
RETURN count(*) AS recorded
