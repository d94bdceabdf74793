// explain — explanation paths from a user to items, ranked by the active model's evidence.
//
// Returns one row per path: the item (with its recommendation rank, if recommended), the path
// as a Neo4j path (drawn by Neo4j Browser when $draw is true), the same path as plain maps,
// its shape, weight and support. At most $paths paths per item, best first.
//
// Parameters:
//   $user_id   string        the user
//   $item_ids  list<string>  items to explain; [] means "the user's current top-$k recommendations"
//   $k         integer       how many recommendations to explain when $item_ids is []
//   $paths     integer       paths per item (best first)
//   $fanout    integer       bound on co-interacting users followed per item (keeps hubs cheap)
//   $draw      boolean       return the Neo4j path column (for Browser); false saves transfer
//
// Paths never use RECOMMENDED. Shapes (at most 4 hops):
//   shared_entity       (u)-[:INTERACTED]->(i)-[x]->(e)<-[y]-(r)          same category / creator / tag
//   co_interaction      (u)-[:INTERACTED]->(i)<-[:INTERACTED]-(v)-[:INTERACTED]->(r)
//   category_hierarchy  (u)-[:INTERACTED]->(i)-[:IN_CATEGORY]->(c)-[:SUBCATEGORY_OF]-(d)<-[:IN_CATEGORY]-(r)
// Ranking = the model's own evidence. weight = attention(u->i) * (e_i . e_r): the share of the
// user's representation that the user's item i carries, times how strongly i points at r in the
// model's space — to first order, how much r's score drops if the interaction with i is removed
// (what the deletion test measures). Paths through the same item are ordered by support = the
// product of the connecting edges' attention (missing attention counts as 1). Attention and
// embeddings are read from the properties the active :Model names (m.attention_property,
// m.embedding_property), so a query never mixes two model versions.
//
// Cost stays bounded on big graphs: the user's items are ranked by weight once per target item,
// paths are searched only through the 10 + $paths items that weigh most (so the best paths are
// found unless none of those connects), every shape reaches the target only through existence
// checks between bound nodes, and co-interacting users are capped at $fanout per item.
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param item_ids => []
//   :param k => 5
//   :param paths => 1
//   :param fanout => 20
//   :param draw => true
MATCH (u:User {id: $user_id})
OPTIONAL MATCH (m:Model {active: true})
CALL (u) {
  MATCH (u)-[a:INTERACTED]->(:Item)
  RETURN collect(a) AS seen
}
CALL (u, m) {
  MATCH (u)-[rec:RECOMMENDED]->(r:Item)
  WHERE size($item_ids) = 0 AND rec.model = m.version
  RETURN r, rec.rank AS rank
  ORDER BY rank
  LIMIT toInteger($k)
  UNION
  MATCH (r:Item)
  WHERE r.id IN $item_ids
  OPTIONAL MATCH (u)-[rec:RECOMMENDED]->(r)
  WHERE rec.model = m.version
  RETURN r, rec.rank AS rank
}
CALL (u, r, seen, m) {
  UNWIND seen AS a
  WITH r, m, a, endNode(a) AS i
  WHERE i <> r
  WITH a, i, coalesce(a[m.attention_property], 0.0) AS alpha,
       coalesce(i[m.embedding_property], []) AS ei, coalesce(r[m.embedding_property], []) AS er
  WITH a, i, alpha * reduce(dot = 0.0, d IN range(0, size(ei) - 1) | dot + ei[d] * coalesce(er[d], 0.0)) AS weight
  ORDER BY weight DESC
  LIMIT 10 + toInteger($paths)
  RETURN collect({a: a, i: i, weight: weight}) AS evidence
}
CALL (u, r, m, evidence) {
  CALL (u, r, evidence) {
    UNWIND evidence AS ev
    WITH u, r, ev.a AS a, ev.i AS i, ev.weight AS weight
    MATCH p = (u)-[a]->(i)-[x]->(e)<-[y]-(r)
    WHERE NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND type(y) <> 'RECOMMENDED'
    RETURN p, weight, 'shared_entity' AS shape
    UNION
    MATCH (r)<-[b:INTERACTED]-(v:User)
    WHERE v <> u
    WITH u, r, evidence, b, v
    LIMIT toInteger($fanout)
    MATCH (v)-[c:INTERACTED]->(i:Item)
    WITH u, r, b, v, c, [ev IN evidence WHERE ev.i = i] AS found
    WHERE size(found) > 0
    WITH u, r, b, v, c, found[0].a AS a, found[0].i AS i, found[0].weight AS weight
    MATCH p = (u)-[a]->(i)<-[c]-(v)-[b]->(r)
    RETURN p, weight, 'co_interaction' AS shape
    UNION
    UNWIND evidence AS ev
    WITH u, r, ev.a AS a, ev.i AS i, ev.weight AS weight
    MATCH p = (u)-[a]->(i)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF]-(:Category)<-[:IN_CATEGORY]-(r)
    RETURN p, weight, 'category_hierarchy' AS shape
  }
  WITH p, shape, weight,
       reduce(w = 1.0, x IN relationships(p)[1..] | w * coalesce(x[m.attention_property], 1.0)) AS support
  RETURN p, shape, weight, support
  ORDER BY weight DESC, support DESC, length(p)
  LIMIT toInteger($paths)
}
RETURN r.id AS item_id, rank, shape, weight, support,
       CASE WHEN $draw THEN p END AS path,
       [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.title, n.name, n.id)}] AS nodes,
       [x IN relationships(p) | {type: type(x), start: startNode(x).id, end: endNode(x).id,
                                 attention: x[m.attention_property], rating: x.rating}] AS relationships
ORDER BY rank, item_id, weight DESC, support DESC
