// similar_items — items nearest to an item in the model's embedding space (vector index),
// each with the categories and knowledge entities both items link to. The active :Model names
// the index and the embedding property.
//
// Returns: item_id, title, similarity (cosine in [0, 1]), shared (list of {label, id, name}).
//
// Parameters:
//   $item_id  string   the item
//   $k        integer  how many similar items
//
// In Neo4j Browser:
//   :param item_id => 'i1'
//   :param k => 10
MATCH (m:Model {active: true})
MATCH (i:Item {id: $item_id})
WHERE i[m.embedding_property] IS NOT NULL
CALL db.index.vector.queryNodes(m.item_index, toInteger($k) + 1, i[m.embedding_property]) YIELD node AS other, score
WHERE other <> i
WITH i, other, score
ORDER BY score DESC
LIMIT toInteger($k)
CALL (i, other) {
  OPTIONAL MATCH (i)-[x]->(e)<-[y]-(other)
  WHERE NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND type(y) <> 'RECOMMENDED'
  WITH DISTINCT e
  WHERE e IS NOT NULL
  RETURN collect({label: labels(e)[0], id: e.id, name: coalesce(e.name, e.title, e.id)})[..10] AS shared
}
RETURN other.id AS item_id, other.title AS title, score AS similarity, shared
ORDER BY similarity DESC
