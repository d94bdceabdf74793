// recommended_users — the users that have recommendations from a model version, with those items.
//
// Returns: id, items (the recommended item ids, in no particular order); one row per user.
//
// Parameters:
//   $version  string  the model version
MATCH (u:User)-[rec:RECOMMENDED]->(i:Item)
WHERE rec.model = $version
RETURN u.id AS id, collect(i.id) AS items
