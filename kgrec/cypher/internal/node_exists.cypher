// node_exists — whether a user and an item exist (either id may be null).
//
// Returns: user_exists, item_exists (booleans).
//
// Parameters:
//   $user_id  string or null
//   $item_id  string or null
RETURN EXISTS { MATCH (:User {id: $user_id}) } AS user_exists,
       EXISTS { MATCH (:Item {id: $item_id}) } AS item_exists
