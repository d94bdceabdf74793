// recommendations — a user's materialised top-K from the active model (RECOMMENDED edges).
//
// Returns: item_id, title, score, rank, model (version), live (computed by the API from the
// user's interactions since the last training, rather than by the training's write-back),
// explanations (stored paths as JSON text, or null), phrases (a language model's accepted
// sentences for those paths, JSON text keyed by path, or null), best first. No rows when the user has no
// recommendations from the active model (new user, or added after the last training, and not
// yet asked for through the API). recommendation_state.cypher says whether the list is current.
//
// Parameters:
//   $user_id   string        the user
//   $k         integer       how many
//   $item_ids  list<string>  only these items ([] means all)
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param k => 10
//   :param item_ids => []
MATCH (m:Model {active: true})
MATCH (:User {id: $user_id})-[rec:RECOMMENDED]->(i:Item)
WHERE rec.model = m.version AND (size($item_ids) = 0 OR i.id IN $item_ids)
RETURN i.id AS item_id, i.title AS title, rec.score AS score, rec.rank AS rank, m.version AS model,
       coalesce(rec.live, false) AS live, rec.explanations AS explanations,
       rec.phrases AS phrases
ORDER BY rank
LIMIT toInteger($k)
