// demo_users — the most active users with recommendations from a model version, whose
// recommendations `kgrec demo` shows: most interactions first, ties by id.
//
// Returns: id (at most $n rows).
//
// Parameters:
//   $version  string   the model version
//   $n        integer  how many users
MATCH (u:User)-[rec:RECOMMENDED]->()
WHERE rec.model = $version
WITH DISTINCT u
RETURN u.id AS id ORDER BY COUNT { (u)-[:INTERACTED]->() } DESC, id LIMIT $n
