// recommended_users — the users that have recommendations from a model version.
//
// Returns: id (one row per user).
//
// Parameters:
//   $version  string  the model version
MATCH (u:User)-[rec:RECOMMENDED]->()
WHERE rec.model = $version
RETURN DISTINCT u.id AS id
