// store_new_items — write through items the active model now scores from their knowledge
// links: their embedding and message vector in the model's slot, the mark `scored_by` (the
// API's frozen model adds the marked items when it loads), the model's count of such items
// (`m.added_items`: a running API adds the ones it lacks when the count changes), and the users
// whose items share an entity with a new item lose the mark that keeps their list current, so
// their next list is folded in again and can hold the new item. Nothing is written unless
// `$version` is still the active model.
//
// Returns: one row, stored (how many items were written), or no row when `$version` is no
//          longer the active model.
//
// Parameters:
//   $version     string             the model that scored the items
//   $item_ids    list<string>       the items
//   $embeddings  list<list<float>>  their embeddings, in the same order
//   $messages    list<list<float>>  their message vectors, in the same order
MATCH (m:Model {active: true, version: $version})
SET m.added_items = coalesce(m.added_items, 0) + size($item_ids)
WITH m
UNWIND range(0, size($item_ids) - 1) AS k
MATCH (i:Item {id: $item_ids[k]})
SET i.scored_by = $version
WITH m, i, k
CALL (m, i, k) {
  CALL db.create.setNodeVectorProperty(i, m.embedding_property, $embeddings[k])
}
// a model published before message vectors existed names no message property
CALL (m, i, k) {
  WITH m, i, k
  WHERE m.message_property IS NOT NULL
  CALL db.create.setNodeVectorProperty(i, m.message_property, $messages[k])
}
CALL (i) {
  MATCH (i)-[r]-(e)<--(:Item)<-[:INTERACTED]-(u:User)
  WHERE NOT e:User AND NOT e:Item AND type(r) <> 'RECOMMENDED'
  WITH DISTINCT u
  SET u.recommended_history = null
}
RETURN count(i) AS stored
