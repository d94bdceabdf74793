// valid_evidence — every item of a user's history that connects to an item by an explanation
// path of any shape explain.cypher knows (shared entity, category hierarchy, co-interaction).
//
// Returns: item_id, one row per such item, sorted by id. The faithfulness measures draw their
// control ("a random valid path") from these.
//
// Parameters:
//   $user_id  string  the user
//   $item_id  string  the item to reach
MATCH (u:User {id: $user_id})-[:INTERACTED]->(i:Item), (r:Item {id: $item_id})
WHERE i <> r
  AND (EXISTS { MATCH (i)-[x]->(e)<-[y]-(r)
                WHERE NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND NOT type(y) IN ['INTERACTED', 'RECOMMENDED'] }
       OR EXISTS { (i)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF]-(:Category)<-[:IN_CATEGORY]-(r) }
       OR EXISTS { MATCH (i)<-[:INTERACTED]-(v:User)-[:INTERACTED]->(r) WHERE v <> u })
RETURN i.id AS item_id
ORDER BY item_id
