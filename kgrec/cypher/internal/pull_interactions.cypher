// pull_interactions — the INTERACTED relationships of the given users, as pull_relationships
// returns them, plus the interaction attributes aligned with them (NaN where absent: collect()
// leaves nulls out, which misaligned the lists after an interaction without rating or ts).
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
  RETURN collect(head) AS heads, collect(id(t)) AS tails, collect(coalesce(r.weight, 0.0 / 0.0)) AS weight,
         collect(coalesce(r.rating, 0.0 / 0.0)) AS rating, collect(coalesce(r.ts, 0.0 / 0.0)) AS ts
}
RETURN heads, tails, weight, rating, ts
