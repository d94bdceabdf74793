// load_update_interactions: set new weight / rating / ts on existing INTERACTED relationships
// whose values changed since the last load (a null removes rating or ts).
// Parameters: $heads, $tails (element ids), $weight, $rating, $ts (same length).
UNWIND range(0, size($heads) - 1) AS k
MATCH (u) WHERE elementId(u) = $heads[k]
MATCH (i) WHERE elementId(i) = $tails[k]
MATCH (u)-[r:INTERACTED]->(i)
SET r.weight = $weight[k], r.rating = $rating[k], r.ts = $ts[k]
RETURN count(r) AS updated
