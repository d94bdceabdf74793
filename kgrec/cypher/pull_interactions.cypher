// pull_interactions — the INTERACTED relationships of the given users, as pull_relationships
// returns them, plus the interaction attributes aligned with them (null where absent).
//
// Returns: heads, tails (aligned lists of internal node ids), weight, rating, ts.
//
// Parameters:
//   $chunks  list<list<integer>>  internal ids of the users, one list per result row
UNWIND $chunks AS chunk
CALL (chunk) {
  UNWIND chunk AS head
  MATCH (h)-[r:INTERACTED]->(t)
  WHERE id(h) = head
  RETURN collect(head) AS heads, collect(id(t)) AS tails, collect(r.weight) AS weight,
         collect(r.rating) AS rating, collect(r.ts) AS ts
}
RETURN heads, tails, weight, rating, ts
