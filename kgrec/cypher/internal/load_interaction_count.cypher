// load_interaction_count: how many INTERACTED relationships exist (from the count store, no
// scan). Zero means a first load: the loader skips looking for existing pairs.
MATCH ()-[r:INTERACTED]->()
RETURN count(r) AS n
