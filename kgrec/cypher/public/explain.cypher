// explain — explanation paths from a user to items: for each piece of the model's evidence, the
// path of the channel that carries its weight.
//
// Returns one row per path (best evidence first, at most $paths evidence items per target item):
// the target item (with its recommendation rank, if recommended), the path as a Neo4j path (drawn
// by Neo4j Browser when $draw is true), the same path as plain maps, its shape, its channel, its
// weight and share of the score, the evidence's whole contribution, whether the user disliked the
// evidence, and for co-interaction paths how many other users make it.
//
// Parameters:
//   $user_id   string        the user
//   $item_ids  list<string>  items to explain; [] means "the user's current top-$k recommendations"
//   $k         integer       how many recommendations to explain when $item_ids is []
//   $paths     integer       evidence items explained per item (best first)
//   $draw      boolean       return the Neo4j path column (for Browser); false saves transfer
//
// Evidence = the user's interacted items that push the target's score up. Two sources:
//   model_contribution    the active model's RECOMMENDED edge for (user, item) carries
//                         rec.evidence (item ids, strongest first) and rec.evidence_weights (each
//                         one's exact contribution to the score = how much the score drops when
//                         that interaction is removed). Items whose contribution is not positive
//                         are no reason and are skipped.
//   first_order_estimate  anything else (item not recommended, or edges written by an older
//                         model): weight = attention(u->i) * (m_i . e_r), with m_i the evidence
//                         item's message vector and e_r the target's embedding (the evidence's
//                         embedding for models without message vectors): an estimate of the
//                         same drop; the 10 + $paths items that weigh most are searched.
//
// Channels. An evidence item's contribution splits exactly into a collaborative part (through
// the item-item weights: what people who interacted with the evidence did) and one part per
// knowledge link the evidence shares with the target (genre, creator, tag). The edge stores, for
// its first five evidence items (the ones an explanation of up to three reads), rec.evidence_channels
// (two parts per item: the collaborative part and the strongest link's) and rec.evidence_links (that
// link as 'RELATION:entity id', '' when there is none). The path shown for an evidence item is the
// one of its largest channel:
//   collaborative  co_interaction  (u)-[:INTERACTED]->(i)<-[:INTERACTED]-(v)-[:INTERACTED]->(r)
//                                  one user v is drawn (the one whose two interactions weigh
//                                  most); `others` counts every other user who interacted with
//                                  both i and r. The write-back counts them for every evidence
//                                  item, in the graph it trained on, and stores
//                                  rec.evidence_co_raters (the counts) and rec.evidence_co_rater
//                                  (the drawn user's id, '' for none): the query then only draws
//                                  that path (so does the API for lists it computes live).
//                                  Without them (other items, older models) it expands the
//                                  evidence's raters: slower than a hash join of both items'
//                                  raters, but a join held 100s of MB per query at 1M.
//   knowledge      shared_entity   (u)-[:INTERACTED]->(i)-[x]-(e)-[x']-(r), e the link's entity
// with `weight` = that channel's exact part and `share` = part / the item's score. The next
// channel is shown too, as a second, weaker path, when it carries at least a quarter of the
// evidence's contribution. A channel with no path in the graph (a collaborative part without
// co-raters) is passed over for the next; a channel that cannot be shown (behind one known to
// have a path, and under a quarter) is not searched. Without stored parts (first_order_estimate, older
// models) the co-interaction path comes first (the collaborative part carries most of the
// published model's scores), else the best knowledge-graph path, including
//   category_hierarchy  (u)-[:INTERACTED]->(i)-[:IN_CATEGORY]->(c)-[:SUBCATEGORY_OF]-(d)<-[:IN_CATEGORY]-(r)
// Attention and embeddings are read from the properties the active :Model names, so a query
// never mixes two model versions.
//
// Among a user's interactions, a disliked one (rating below the user's mean rating, or <= 2)
// is marked `disliked` and comes after every liked (or unrated) one that explains the item.
// Paths of one channel are ordered by support = the product of the connecting edges'
// attention (missing attention counts as 1).
//
// Cost stays bounded: at most $paths + 2 evidence items per target are searched, each through
// at most three channels, and every shape reaches the target only through checks between bound
// nodes.
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
  MATCH (u)-[a:INTERACTED]->(i:Item)
  RETURN collect(a) AS seen, collect(i.id) AS seen_ids, avg(a.rating) AS mean_rating
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
// Read through properties(): on graphs whose model stores no evidence the property keys do not
// exist, and `rec.evidence` would make Neo4j warn about them on every call.
WITH u, m, seen, seen_ids, mean_rating, r, rec, coalesce(properties(rec), {}) AS stored
WITH u, m, seen, seen_ids, mean_rating, r, rec, coalesce(stored.evidence, []) AS evidence,
     coalesce(stored.evidence_weights, []) AS contributions, coalesce(stored.evidence_channels, []) AS parts,
     coalesce(stored.evidence_links, []) AS links, coalesce(stored.evidence_co_raters, []) AS co_raters,
     coalesce(stored.evidence_co_rater, []) AS co_rater
CALL (u, r, evidence, contributions, parts, links, co_raters, co_rater, seen, seen_ids, m) {
  WITH u, r, evidence, contributions, parts, links, co_raters, co_rater, seen, seen_ids
  WHERE size(evidence) > 0
  // the user's interactions with the evidence items, from the history already read (cheaper
  // than seeking each one between two dense nodes)
  UNWIND [k IN range(0, size(seen) - 1) WHERE seen_ids[k] IN evidence] AS k
  WITH u, r, evidence, contributions, parts, links, co_raters, co_rater, seen[k] AS a, seen_ids[k] AS evidence_id
  WITH u, r, contributions, parts, links, co_raters, co_rater, a, evidence_id,
       [p IN range(0, size(evidence) - 1) WHERE evidence[p] = evidence_id][0] AS position
  WITH u, r, a, position, evidence_id, toFloat(contributions[position]) AS weight,
       links[position] AS link, split(coalesce(links[position], ''), ':')[0] AS link_type,
       parts[2 * position] AS collaborative, parts[2 * position + 1] AS link_part,
       {others: co_raters[position], drawn: co_rater[position]} AS co
  WITH u, r, a, position, evidence_id, weight, co,
       CASE WHEN link IS NULL THEN []
         ELSE [{channel: 'collaborative', part: toFloat(collaborative), others: co.others, drawn: co.drawn}] +
              CASE WHEN link = '' THEN [] ELSE [{channel: 'knowledge', type: link_type,
                                                 entity: substring(link, size(link_type) + 1),
                                                 part: toFloat(link_part)}] END
         END AS channels
  WHERE weight > 0 AND evidence_id <> r.id
  RETURN a, endNode(a) AS i, weight, position, channels, co, 'model_contribution' AS source
  UNION
  WITH r, evidence, seen, m
  WHERE size(evidence) = 0
  UNWIND seen AS a
  WITH r, m, a, endNode(a) AS i
  WHERE i <> r
  WITH a, i, coalesce(a[m.attention_property], 0.0) AS alpha,
       coalesce(i[coalesce(properties(m).message_property, m.embedding_property)], []) AS ei,
       coalesce(r[m.embedding_property], []) AS er
  WITH a, i, alpha * reduce(dot = 0.0, d IN range(0, size(ei) - 1) | dot + ei[d] * coalesce(er[d], 0.0)) AS weight
  ORDER BY weight DESC, i.id
  LIMIT 10 + toInteger($paths)
  WITH collect({a: a, i: i, weight: weight}) AS ranked
  UNWIND range(0, size(ranked) - 1) AS position
  RETURN ranked[position].a AS a, ranked[position].i AS i, ranked[position].weight AS weight, position,
         [] AS channels, {} AS co, 'first_order_estimate' AS source
}
WITH u, r, rec, m, a, i, weight, position, channels, co, source,
     a.rating IS NOT NULL AND (a.rating < mean_rating OR a.rating <= 2) AS disliked
ORDER BY disliked, position
// Only the evidence that can be shown is searched (two spare, for evidence without any path).
WITH u, r, rec, m, collect({a: a, i: i, weight: weight, position: position, channels: channels, co: co,
                            source: source, disliked: disliked})[..toInteger($paths) + 2] AS candidates
UNWIND candidates AS candidate
WITH u, r, rec, m, candidate.a AS a, candidate.i AS i, candidate.weight AS weight, candidate.position AS position,
     candidate.source AS source, candidate.disliked AS disliked,
     CASE WHEN size(candidate.channels) = 0
       THEN [{channel: 'collaborative', priority: 1.0, others: candidate.co.others, drawn: candidate.co.drawn},
             {channel: 'knowledge', priority: 0.0}]
       ELSE candidate.channels END AS channels
// Largest part first (without stored parts: collaborative, then knowledge); a collaborative
// channel counted without co-raters is dropped. When the first channel is known to have a path
// (a knowledge link, or counted co-raters), only the channels that could be shown after it are
// searched.
CALL (channels) {
  UNWIND channels AS channel
  WITH channel
  WHERE channel.others IS NULL OR channel.others > 0
  ORDER BY coalesce(channel.part, channel.priority) DESC
  RETURN collect(channel) AS ordered
}
WITH u, r, rec, m, a, i, weight, position, source, disliked,
     CASE WHEN ordered[0].channel = 'knowledge' AND ordered[0].entity IS NOT NULL OR ordered[0].others > 0
       THEN ordered[..1] + [c IN ordered[1..] WHERE c.part >= 0.25 * weight]
       ELSE ordered END AS channels
// Each channel's path, in that order.
CALL (u, r, a, i, m, channels) {
  UNWIND channels AS channel
  CALL (u, r, a, i, m, channel) {
    WITH u, r, a, i, m, channel
    WHERE channel.channel = 'knowledge' AND channel.entity IS NOT NULL
    MATCH p = (u)-[a]->(i)-[x]-(e)-[y]-(r)
    WHERE type(x) = channel.type AND type(y) = channel.type AND e.id = channel.entity
    WITH p, reduce(w = 1.0, z IN relationships(p)[1..] | w * coalesce(z[m.attention_property], 1.0)) AS support
    RETURN p, 'shared_entity' AS shape, support, null AS others
    ORDER BY support DESC
    LIMIT 1
    UNION
    WITH u, r, a, i, m, channel
    WHERE channel.channel = 'knowledge' AND channel.entity IS NULL
    CALL (u, r, a, i) {
      MATCH p = (u)-[a]->(i)-[x]-(e)-[y]-(r)
      WHERE NOT type(x) IN ['INTERACTED', 'RECOMMENDED'] AND type(y) = type(x)
      RETURN p, 'shared_entity' AS shape
      UNION
      MATCH p = (u)-[a]->(i)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF]-(:Category)<-[:IN_CATEGORY]-(r)
      RETURN p, 'category_hierarchy' AS shape
    }
    WITH p, shape, reduce(w = 1.0, z IN relationships(p)[1..] | w * coalesce(z[m.attention_property], 1.0)) AS support
    RETURN p, shape, support, null AS others
    ORDER BY length(p), support DESC, [n IN nodes(p) | n.id]
    LIMIT 1
    UNION
    WITH u, r, a, i, m, channel
    WHERE channel.channel = 'collaborative' AND channel.drawn <> ''
    // sought on its own: planned with the rest, the seek became an expansion of r's raters
    CALL (channel) {
      MATCH (v:User {id: channel.drawn})
      RETURN v
    }
    MATCH p = (u)-[a]->(i)<-[c:INTERACTED]-(v)-[b:INTERACTED]->(r)
    RETURN p, 'co_interaction' AS shape,
           coalesce(c[m.attention_property], 1.0) * coalesce(b[m.attention_property], 1.0) AS support,
           channel.others AS others
    UNION
    WITH u, r, a, i, m, channel
    WHERE channel.channel = 'collaborative' AND channel.drawn IS NULL
    MATCH (i)<-[c:INTERACTED]-(v:User)-[b:INTERACTED]->(r)
    WHERE v <> u
    WITH u, a, i, r, c, v, b, coalesce(c[m.attention_property], 1.0) * coalesce(b[m.attention_property], 1.0) AS support
    ORDER BY support DESC, v.id
    WITH u, a, i, r, collect({c: c, v: v, b: b, support: support}) AS others
    WITH u, a, i, r, size(others) AS others, others[0] AS drawn
    WITH u, a, i, r, others, drawn.c AS c, drawn.v AS v, drawn.b AS b, drawn.support AS support
    MATCH p = (u)-[a]->(i)<-[c]-(v)-[b]->(r)
    RETURN p, 'co_interaction' AS shape, support, others
  }
  WITH channel, p, shape, support, others
  ORDER BY coalesce(channel.part, channel.priority) DESC
  RETURN collect({p: p, shape: shape, support: support, others: others, channel: channel.channel,
                  part: channel.part}) AS found
}
// The largest channel with a path; the next one too when it carries a quarter of the contribution.
WITH r, rec, m, weight, position, source, disliked, found
WHERE size(found) > 0
WITH r, rec, m, position, source, disliked, weight AS contribution,
     [found[0]] + [f IN found[1..2] WHERE f.part IS NOT NULL AND f.part >= 0.25 * weight] AS shown
WITH r, rec, m, collect({shown: shown, contribution: contribution, source: source, disliked: disliked,
                         position: position})[..toInteger($paths)] AS explained
UNWIND explained AS e
UNWIND range(0, size(e.shown) - 1) AS order
WITH r, rec, m, e, order, e.shown[order] AS f, e.shown[order].p AS p
WITH r, rec, m, e, order, f, p, CASE WHEN f.part IS NULL THEN e.contribution ELSE f.part END AS weight
RETURN r.id AS item_id, rec.rank AS rank, f.shape AS shape, f.channel AS channel, weight,
       e.contribution AS contribution,
       CASE WHEN f.part IS NOT NULL AND rec.score > 0 THEN weight / rec.score END AS share,
       f.support AS support, e.source AS source, e.disliked AS disliked, f.others AS others,
       CASE WHEN $draw THEN p END AS path,
       [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.title, n.name, n.id)}] AS nodes,
       [x IN relationships(p) | {type: type(x), start: startNode(x).id, end: endNode(x).id,
                                 attention: x[m.attention_property], rating: x.rating}] AS relationships
ORDER BY rank, item_id, e.disliked, e.position, order
