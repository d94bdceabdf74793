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
//   category_hierarchy  (u)-[:INTERACTED]->(i)-[x]->(c)-[:SUBCATEGORY_OF]-(d)<-[y]-(r)
// Ranking = the model's own evidence. weight = attention(u->i) * (e_i . e_r): the share of the
// user's representation that the user's item i carries, times how strongly i points at r in the
// model's space — to first order, how much r's score drops if the interaction with i is removed
// (what the deletion test measures). Paths through the same item are ordered by support = the
// product of the connecting edges' attention (missing attention counts as 1). Attention and
// embeddings are read from the properties the active :Model names (m.attention_property,
// m.embedding_property), so a query never mixes two model versions.
//
// Cost stays bounded on big graphs: every shape expands from the user's own items and reaches
// the target item only through existence checks between bound nodes; co-interacting users are
// capped at $fanout per item.
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param item_ids => []
//   :param k => 5
//   :param paths => 1
//   :param fanout => 50
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
  CALL (u, r, seen) {
    UNWIND seen AS a
    WITH u, r, a, endNode(a) AS i
    MATCH p = (u)-[a]->(i)-[x]->(e)<-[y]-(r)
    WHERE i <> r AND NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND type(y) <> 'RECOMMENDED'
    RETURN p, a, i, 'shared_entity' AS shape
    UNION
    MATCH (r)<-[b:INTERACTED]-(v:User)
    WHERE v <> u
    WITH u, r, seen, b, v
    LIMIT toInteger($fanout)
    MATCH (v)-[c:INTERACTED]->(i:Item)
    WHERE i <> r
    WITH u, r, b, v, c, i, [s IN seen WHERE endNode(s) = i] AS mine
    WHERE size(mine) > 0
    WITH u, r, b, v, c, i, mine[0] AS a
    MATCH p = (u)-[a]->(i)<-[c]-(v)-[b]->(r)
    RETURN p, a, i, 'co_interaction' AS shape
    UNION
    UNWIND seen AS a
    WITH u, r, a, endNode(a) AS i
    MATCH p = (u)-[a]->(i)-[x]->(c)-[z:SUBCATEGORY_OF]-(d)<-[y]-(r)
    WHERE i <> r AND NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND type(y) <> 'RECOMMENDED'
    RETURN p, a, i, 'category_hierarchy' AS shape
  }
  WITH p, shape, a, i, r,
       reduce(w = 1.0, x IN relationships(p)[1..] | w * coalesce(x[m.attention_property], 1.0)) AS support
  WITH p, shape, support, coalesce(a[m.attention_property], 0.0) AS alpha,
       coalesce(i[m.embedding_property], []) AS ei, coalesce(r[m.embedding_property], []) AS er
  WITH p, shape, support,
       alpha * reduce(dot = 0.0, d IN range(0, size(ei) - 1) | dot + ei[d] * coalesce(er[d], 0.0)) AS weight
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
