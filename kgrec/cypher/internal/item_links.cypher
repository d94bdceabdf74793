// item_links — what items created after training link to: every relationship of each item to a
// node that is neither a user nor an item (a genre, creator, tag, category...), as the model
// names its relations, for the model to score the item from (kgrec.engine.new_items).
//
// Returns: one row per item that exists: item_id, links (list of {head, type, tail, entity_id},
//          head and tail the labels of the relationship's ends).
//
// Parameters:
//   $item_ids  list<string>  the items
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})
RETURN item_id, COLLECT {
  MATCH (i)-[r]-(e)
  WHERE NOT e:User AND NOT e:Item AND e.id IS NOT NULL
  RETURN {head: labels(startNode(r))[0], type: type(r), tail: labels(endNode(r))[0], entity_id: e.id}
} AS links
