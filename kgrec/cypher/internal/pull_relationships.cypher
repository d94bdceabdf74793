// pull_relationships — the relationships of one type leaving the given head nodes, as internal
// node ids: one row per chunk of heads, with one entry per relationship in each list. Heads
// are sought by internal id (no label scan or filter) and tails are not label-checked: the
// caller keeps the tails whose label it wants. Rows stream chunk by chunk.
//
// Returns: heads, tails (aligned lists of internal node ids).
//
// Parameters:
//   $chunks  list<list<integer>>  internal ids of the head nodes, one list per result row
// Slot: {{rel:type}}.
UNWIND $chunks AS chunk
CALL (chunk) {
  UNWIND chunk AS head
  MATCH (h)-[:{{rel:type}}]->(t)
  WHERE id(h) = head
  RETURN collect(head) AS heads, collect(id(t)) AS tails
}
RETURN heads, tails
