// writeback_cleanup — remove what no active model uses: RECOMMENDED edges and :Model nodes of
// other versions (retired, or left by a run that died), and one slot's properties. Batched
// (CALL ... IN TRANSACTIONS), so it fits a small heap; must run in an implicit transaction.
// RECOMMENDED edges go 2,000 to a transaction: each carries a chain of property records
// (evidence, weights, channel split), and larger transactions cost the server far more CPU per
// edge (bench/results/evidence_store.json).
//
// Parameters:
//   $keep                list<string>  versions to keep (the active one, the one being written)
//   $attention_property  string  slot property to remove from relationships
//   $embedding_property  string  slot property to remove from nodes
//   $message_property    string  slot property to remove from items
MATCH ()-[r:RECOMMENDED]->()
WHERE NOT r.model IN $keep
CALL (r) { DELETE r } IN TRANSACTIONS OF 2000 ROWS
WITH count(*) AS ignored
MATCH ()-[r]->()
WHERE r[$attention_property] IS NOT NULL
CALL (r) { SET r[$attention_property] = null } IN TRANSACTIONS OF 50000 ROWS
WITH count(*) AS ignored
MATCH (n)
WHERE n[$embedding_property] IS NOT NULL
CALL (n) { SET n[$embedding_property] = null } IN TRANSACTIONS OF 20000 ROWS
WITH count(*) AS ignored
MATCH (n:Item)
WHERE n[$message_property] IS NOT NULL
CALL (n) { SET n[$message_property] = null } IN TRANSACTIONS OF 20000 ROWS
WITH count(*) AS ignored
MATCH (m:Model)
WHERE NOT m.version IN $keep AND NOT coalesce(m.active, false)
DETACH DELETE m
