// explain — explanation paths from a user to items: one per piece of the model's evidence.
//
// Returns one row per evidence item (best first, at most $paths per target item): the target
// item (with its recommendation rank, if recommended), the path as a Neo4j path (drawn by Neo4j
// Browser when $draw is true), the same path as plain maps, its shape, weight, support, where
// the weight comes from, whether the user disliked the evidence, and for co-interaction paths
// how many other users make it.
//
// Parameters:
//   $user_id   string        the user
//   $item_ids  list<string>  items to explain; [] means "the user's current top-$k recommendations"
//   $k         integer       how many recommendations to explain when $item_ids is []
//   $paths     integer       explanations per item = distinct evidence items (best first)
//   $draw      boolean       return the Neo4j path column (for Browser); false saves transfer
//
// Evidence = the user's interacted items that push the target's score up. Two sources:
//   model_contribution    the active model's RECOMMENDED edge for (user, item) carries
//                         rec.evidence (item ids, strongest first) and rec.evidence_weights (each
//                         one's exact contribution to the score = how much the score drops when
//                         that interaction is removed). Only those items are searched, in that
//                         order, and each path's weight is the stored contribution; items whose
//                         contribution is not positive are no reason and are skipped.
//   first_order_estimate  anything else (item not recommended, or edges written by an older
//                         model): weight = attention(u->i) * (e_i . e_r), a first-order estimate
//                         of the same drop; the 10 + $paths items that weigh most are searched.
// Attention and embeddings are read from the properties the active :Model names, so a query
// never mixes two model versions.
//
// Per evidence item one path is kept (so no explanation repeats another), a knowledge-graph
// path before a co-interaction one. Shapes (at most 4 hops, never through RECOMMENDED):
//   shared_entity       (u)-[:INTERACTED]->(i)-[x]->(e)<-[y]-(r)          same category / creator / tag
//   category_hierarchy  (u)-[:INTERACTED]->(i)-[:IN_CATEGORY]->(c)-[:SUBCATEGORY_OF]-(d)<-[:IN_CATEGORY]-(r)
//   co_interaction      (u)-[:INTERACTED]->(i)<-[:INTERACTED]-(v)-[:INTERACTED]->(r)
//                       one user v is drawn; `others` counts every other user who interacted
//                       with both i and r.
// Among a user's interactions, a disliked one (rating below the user's mean rating, or <= 2)
// is marked `disliked` and comes after every liked (or unrated) one that explains the item.
// Paths through the same item are ordered by support = the product of the connecting edges'
// attention (missing attention counts as 1).
//
// Cost stays bounded: at most 10 + $paths evidence items per target, every shape reaches the
// target only through checks between bound nodes.
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param item_ids => []
//   :param k => 5
//   :param paths => 1
//   :param draw => true
MATCH (u:User {id: $user_id})
OPTIONAL MATCH (m:Model {active: true})
CALL (u) {
  MATCH (u)-[a:INTERACTED]->(:Item)
  RETURN collect(a) AS seen, avg(a.rating) AS mean_rating
}
CALL (u, m) {
  MATCH (u)-[rec:RECOMMENDED]->(r:Item)
  WHERE size($item_ids) = 0 AND rec.model = m.version
  RETURN r, rec
  ORDER BY rec.rank
  LIMIT toInteger($k)
  UNION
  MATCH (r:Item)
  WHERE r.id IN $item_ids
  OPTIONAL MATCH (u)-[rec:RECOMMENDED]->(r)
  WHERE rec.model = m.version
  RETURN r, rec
}
// Read through properties(): on graphs whose model stores no evidence the property key does not
// exist, and `rec.evidence` would make Neo4j warn about it on every call.
WITH u, m, seen, mean_rating, r, rec, coalesce(properties(rec).evidence, []) AS evidence,
     coalesce(properties(rec).evidence_weights, []) AS contributions
CALL (u, r, evidence, contributions, seen, m) {
  WITH u, r, evidence, contributions
  WHERE size(evidence) > 0
  UNWIND range(0, size(evidence) - 1) AS position
  WITH u, r, position, evidence[position] AS evidence_id, toFloat(contributions[position]) AS weight
  WHERE weight > 0 AND evidence_id <> r.id
  MATCH (u)-[a:INTERACTED]->(i:Item {id: evidence_id})
  RETURN a, i, weight, position, 'model_contribution' AS source
  UNION
  WITH r, evidence, seen, m
  WHERE size(evidence) = 0
  UNWIND seen AS a
  WITH r, m, a, endNode(a) AS i
  WHERE i <> r
  WITH a, i, coalesce(a[m.attention_property], 0.0) AS alpha,
       coalesce(i[m.embedding_property], []) AS ei, coalesce(r[m.embedding_property], []) AS er
  WITH a, i, alpha * reduce(dot = 0.0, d IN range(0, size(ei) - 1) | dot + ei[d] * coalesce(er[d], 0.0)) AS weight
  ORDER BY weight DESC, i.id
  LIMIT 10 + toInteger($paths)
  WITH collect({a: a, i: i, weight: weight}) AS ranked
  UNWIND range(0, size(ranked) - 1) AS position
  RETURN ranked[position].a AS a, ranked[position].i AS i, ranked[position].weight AS weight, position,
         'first_order_estimate' AS source
}
WITH u, r, rec, m, a, i, weight, position, source,
     a.rating IS NOT NULL AND (a.rating < mean_rating OR a.rating <= 2) AS disliked
// The best knowledge-graph path through this evidence, if there is one.
OPTIONAL CALL (u, r, a, i, m) {
  CALL (u, r, a, i) {
    MATCH p = (u)-[a]->(i)-[x]->(e)<-[y]-(r)
    WHERE NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND NOT type(y) IN ['INTERACTED', 'RECOMMENDED']
    RETURN p, 'shared_entity' AS shape
    UNION
    MATCH p = (u)-[a]->(i)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF]-(:Category)<-[:IN_CATEGORY]-(r)
    RETURN p, 'category_hierarchy' AS shape
  }
  WITH p, shape, reduce(w = 1.0, x IN relationships(p)[1..] | w * coalesce(x[m.attention_property], 1.0)) AS support
  RETURN p AS kg_path, shape AS kg_shape, support AS kg_support
  ORDER BY length(p), support DESC, [n IN nodes(p) | n.id]
  LIMIT 1
}
// Otherwise: the other users who interacted with both, counted; one of them is drawn.
OPTIONAL CALL (u, r, a, i, m, kg_path) {
  WITH u, r, a, i, m
  WHERE kg_path IS NULL
  MATCH (i)<-[c:INTERACTED]-(v:User)-[b:INTERACTED]->(r)
  WHERE v <> u
  WITH u, a, i, r, m, c, v, b,
       coalesce(c[m.attention_property], 1.0) * coalesce(b[m.attention_property], 1.0) AS support
  ORDER BY support DESC, v.id
  WITH u, a, i, r, collect({c: c, v: v, b: b, support: support}) AS others
  WITH u, a, i, r, size(others) AS others, others[0] AS drawn
  WITH u, a, i, r, others, drawn.c AS c, drawn.v AS v, drawn.b AS b, drawn.support AS support
  MATCH p = (u)-[a]->(i)<-[c]-(v)-[b]->(r)
  RETURN p AS co_path, support AS co_support, others
}
WITH r, rec, m, weight, position, source, disliked,
     coalesce(kg_path, co_path) AS p, coalesce(kg_shape, 'co_interaction') AS shape,
     coalesce(kg_support, co_support) AS support, CASE WHEN kg_path IS NULL THEN others END AS others
WHERE p IS NOT NULL
WITH r, rec, m, p, shape, weight, support, source, disliked, others, position
ORDER BY disliked, position
WITH r, rec, m, collect({p: p, shape: shape, weight: weight, support: support, source: source,
                         disliked: disliked, others: others, position: position})[..toInteger($paths)] AS found
UNWIND found AS f
WITH r, rec, m, f, f.p AS p
RETURN r.id AS item_id, rec.rank AS rank, f.shape AS shape, f.weight AS weight, f.support AS support,
       f.source AS source, f.disliked AS disliked, f.others AS others,
       CASE WHEN $draw THEN p END AS path,
       [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.title, n.name, n.id)}] AS nodes,
       [x IN relationships(p) | {type: type(x), start: startNode(x).id, end: endNode(x).id,
                                 attention: x[m.attention_property], rating: x.rating}] AS relationships
ORDER BY rank, item_id, f.disliked, f.position
