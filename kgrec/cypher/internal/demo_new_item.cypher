// demo_new_item — the demo's item created after training: a sequel of a rated item whose rarest
// entity (creator, genre, tag) links the fewest items, with that item's links to entities (not
// its interactions). Idempotent: the new item's own links do not count, and it and each link are
// MERGEd.
//
// Returns: one row, twin_id, twin_title (the item it copies), links (how many).
//
// Parameters:
//   $item_id  string  the new item's id
MATCH (twin:Item)-[l]->(e)
WHERE NOT type(l) IN ['INTERACTED', 'RECOMMENDED'] AND twin.id <> $item_id AND EXISTS { (twin)<-[:INTERACTED]-() }
WITH twin, min(COUNT { (e)<--(other:Item) WHERE other.id <> $item_id }) AS rarest
ORDER BY rarest, twin.id
LIMIT 1
MERGE (new:Item {id: $item_id})
SET new.title = coalesce(twin.title, twin.id) + ' II'
WITH twin, new
MATCH (twin)-[l]->(e)
WHERE NOT type(l) IN ['INTERACTED', 'RECOMMENDED']
CALL (new, l, e) {
  MERGE (new)-[:$(type(l))]->(e)
}
RETURN twin.id AS twin_id, coalesce(twin.title, twin.id) AS twin_title, count(l) AS links
