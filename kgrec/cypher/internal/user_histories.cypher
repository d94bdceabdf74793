// user_histories — the items each of the given users interacted with: the histories that the
// explanation faithfulness tests edit and score again with the frozen model.
//
// Returns: user_id, items (list of item ids); no row for a user without interactions.
//
// Parameters:
//   $user_ids  list<string>  the users
UNWIND $user_ids AS user_id
MATCH (:User {id: user_id})-[:INTERACTED]->(i:Item)
RETURN user_id, collect(i.id) AS items
