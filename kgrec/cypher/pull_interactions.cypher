// pull_interactions — every (:User)-[:INTERACTED]->(:Item), one row per user with the items
// and the interaction attributes collected in the same order (null where absent).
//
// Returns: head (user id), tails (item ids), weight, rating, ts (lists aligned with tails).
//
// Parameters:
//   $user_ids  list<string> or null   only these users (null: all)
MATCH (u:User)
WHERE $user_ids IS NULL OR u.id IN $user_ids
MATCH (u)-[r:INTERACTED]->(i:Item)
RETURN u.id AS head, collect(i.id) AS tails, collect(r.weight) AS weight,
       collect(r.rating) AS rating, collect(r.ts) AS ts
