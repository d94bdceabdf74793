// store_live_recommendations — write through a list the API computed live for one user: it
// replaces the user's RECOMMENDED edges of that model version (tagged `live: true`), the user's
// embedding in the model's slot, and the marks that make the list current. Nothing is written
// unless `$version` is still the active model, so a model switch never leaves a user with a
// list of the retired model.
//
// Returns: one row, stored (a list of {item_id, title, score, rank}, best first), or no row when
// `$version` is no longer the active model.
//
// Parameters:
//   $user_id    string             the user
//   $version    string             the model that computed the list
//   $items      list<string>       item ids, best first
//   $scores     list<float>        their scores
//   $evidence   list<list<string>> per item, the user's items that contribute most, strongest first
//   $weights    list<list<float>>  their contributions
//   $channels   list<map>          per item, the properties saying how those contributions split
//                                  and who else interacted with both items (evidence_channels,
//                                  evidence_links, evidence_co_raters, evidence_co_rater; see
//                                  explain.cypher)
//   $embedding  list<float> | null the user's embedding
//   $property   string             the active model's embedding property
//   $history    integer            the user's interaction count the list was computed from
MATCH (m:Model {active: true, version: $version})
MATCH (u:User {id: $user_id})
// first, so the user's write lock is taken before the old edges are read: two requests folding
// the same user in run one after the other, and the second replaces the first's list
SET u.recommended_by = $version, u.recommended_history = $history
WITH u
CALL (u) {
  MATCH (u)-[old:RECOMMENDED {model: $version}]->()
  DELETE old
}
CALL (u) {
  WITH u
  WHERE $embedding IS NOT NULL
  CALL db.create.setNodeVectorProperty(u, $property, $embedding)
}
WITH u
CALL (u) {
  UNWIND range(0, size($items) - 1) AS k
  MATCH (i:Item {id: $items[k]})
  CREATE (u)-[rec:RECOMMENDED {model: $version, rank: k + 1, score: $scores[k], evidence: $evidence[k],
                               evidence_weights: $weights[k], live: true}]->(i)
  SET rec += $channels[k]
  WITH i, rec
  ORDER BY rec.rank
  RETURN collect({item_id: i.id, title: i.title, score: rec.score, rank: rec.rank}) AS stored
}
RETURN stored
