// similar_items — the items an item's message weighs most (what the model passes from it to
// their scores: the items it recommends to whoever interacted with it), each with the categories
// and knowledge entities both items link to. The item's message vector (message_property of the
// active :Model; models without one use the item's own embedding) dotted with another item's
// embedding estimates the message; the vector index proposes the 8k items nearest to it in
// angle, ranked by that dot product.
//
// Returns: item_id, title, similarity (the estimated message), shared (list of {label, id, name}).
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
// through properties(): a graph whose models never had message vectors has no such key
WITH m, i, i[coalesce(properties(m).message_property, m.embedding_property)] AS query
WHERE query IS NOT NULL
CALL db.index.vector.queryNodes(m.item_index, 8 * toInteger($k) + 1, query) YIELD node AS other
WHERE other <> i
WITH i, other, query, other[m.embedding_property] AS e
WITH i, other, reduce(dot = 0.0, d IN range(0, size(query) - 1) | dot + query[d] * e[d]) AS score
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
