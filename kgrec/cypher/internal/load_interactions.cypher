// load_interactions: create one batch of (:User)-[:INTERACTED {weight, rating?, ts?}]->(:Item)
// between nodes given by element id. The loader sends only (user, item) pairs that do not exist
// yet (see load_existing_relationships): one INTERACTED per pair, never a duplicate.
// A null rating or ts simply leaves that property out.
// Parameters: $heads, $tails (element ids), $weight, $rating, $ts (same length).
UNWIND range(0, size($heads) - 1) AS k
MATCH (u) WHERE elementId(u) = $heads[k]
MATCH (i) WHERE elementId(i) = $tails[k]
CREATE (u)-[:INTERACTED {weight: $weight[k], rating: $rating[k], ts: $ts[k]}]->(i)
