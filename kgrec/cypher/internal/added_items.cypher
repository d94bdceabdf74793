// added_items — the items a model scores from their knowledge links, added after its training
// (store_new_items marks them), for a frozen model loaded from its checkpoint to add them too.
//
// Returns: item_id, one row per item.
//
// Parameters:
//   $version  string  the model
// through properties(): a graph where no item was ever added has no such key
MATCH (i:Item)
WHERE properties(i).scored_by = $version
RETURN i.id AS item_id
ORDER BY item_id
