// export_recommendations — every RECOMMENDED edge of the active model, for offline comparison
// with other systems (`kgrec export-recommendations` writes it as CSV). The active version is
// read once, first, so rows never mix two models; users then come in id order straight from
// the id index (no sort of all rows) and each user's list best first, so the result streams:
// server and client memory stay flat however many edges there are.
//
// Returns: user_id, item_id, rank, score, model (version); no rows before the first training.
//
// Parameters:
//   $user_ids  list<string>  only these users ([] means all)
//
// In Neo4j Browser:
//   :param user_ids => []
CALL () {
  MATCH (m:Model {active: true})
  RETURN m.version AS version
  LIMIT 1
}
MATCH (u:User)
WHERE u.id IS NOT NULL AND (size($user_ids) = 0 OR u.id IN $user_ids)
WITH version, u
ORDER BY u.id
CALL (version, u) {
  MATCH (u)-[rec:RECOMMENDED]->(i:Item)
  WHERE rec.model = version
  RETURN i.id AS item_id, rec.rank AS rank, rec.score AS score
  ORDER BY rank
}
RETURN u.id AS user_id, item_id, rank, score, version AS model
