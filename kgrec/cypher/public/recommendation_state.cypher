// recommendation_state — is the user's stored list from the active model still current, and if
// not, what the user's interactions are now (the API folds the user in from them).
//
// A list is current when the active model computed it (`u.recommended_by`) from as many
// interactions as the user has now (`u.recommended_history`); recording an interaction through
// the API clears `u.recommended_history`, so a changed rating counts as new too.
//
// Returns one row: user_exists, version, checkpoint (the active model's; null before the first
// training), current (boolean), history (the user's interactions as {item_id, rating, ts} when
// the list is not current, in the order the training pull reads them; [] otherwise),
// embedding_property (the active model's slot property for user embeddings), added_items (how
// many items the active model scores from their knowledge links since its training),
// recommendations (when the list is current: its first $k items as recommendations.cypher returns
// them, so serving a current list is this one query; [] otherwise).
//
// Parameters:
//   $user_id  string   the user
//   $k        integer  how many of a current list's items to return (0: none)
//
// In Neo4j Browser:
//   :param user_id => 'u1'
//   :param k => 10
OPTIONAL MATCH (u:User {id: $user_id})
OPTIONAL MATCH (m:Model {active: true})
WITH u, m, CASE WHEN u IS NULL THEN 0 ELSE COUNT { (u)-[:INTERACTED]->() } END AS interactions
WITH u, m, coalesce(u.recommended_by = m.version AND u.recommended_history = interactions, false) AS current
RETURN u IS NOT NULL AS user_exists, m.version AS version, m.checkpoint AS checkpoint,
       m.embedding_property AS embedding_property, coalesce(properties(m).added_items, 0) AS added_items, current,
       CASE WHEN u IS NULL OR current THEN [] ELSE COLLECT {
         MATCH (u)-[r:INTERACTED]->(i:Item)
         RETURN {item_id: i.id, rating: r.rating, ts: r.ts}
       } END AS history,
       CASE WHEN current AND $k > 0 THEN COLLECT {
         MATCH (u)-[rec:RECOMMENDED]->(i:Item)
         WHERE rec.model = m.version
         WITH i, rec
         ORDER BY rec.rank
         LIMIT toInteger($k)
         RETURN {item_id: i.id, title: i.title, score: rec.score, rank: rec.rank, model: m.version,
                 live: coalesce(rec.live, false), explanations: rec.explanations, phrases: rec.phrases}
       } ELSE [] END AS recommendations
