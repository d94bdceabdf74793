// pull_schema — the labels and relationship types in the graph, from the token store. kgrec's
// own Model nodes and RECOMMENDED edges are left out.
//
// Returns: labels (list), types (list).
//
// Parameters: none.
// Each list is collected in a subquery of its own, so an empty database gives one row of two
// empty lists (a procedure that yields nothing would end the query with no row at all).
CALL () { CALL db.labels() YIELD label RETURN collect(label) AS labels }
CALL () { CALL db.relationshipTypes() YIELD relationshipType RETURN collect(relationshipType) AS types }
RETURN [l IN labels WHERE l <> 'Model'] AS labels, [t IN types WHERE t <> 'RECOMMENDED'] AS types
