// added_items — the items a model scores from their knowledge links, added after its training
// (store_new_items marks them), for a frozen model loaded from its checkpoint to add them too.
//
// Returns: one row: added_items (the model's count of additions, as recommendation_state reads
//          it), item_ids (the marked items that still exist).
//
// Parameters:
//   $version  string  the model
MATCH (m:Model {version: $version})
// through properties(): a graph where no item was ever added has no such keys
RETURN coalesce(properties(m).added_items, 0) AS added_items, COLLECT {
  MATCH (i:Item)
  WHERE properties(i).scored_by = $version
  RETURN i.id ORDER BY i.id
} AS item_ids
