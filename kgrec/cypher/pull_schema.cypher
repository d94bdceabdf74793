// pull_schema — the labels and relationship types in the graph, from the token store. kgrec's
// own Model nodes and RECOMMENDED edges are left out.
//
// Returns: labels (list), types (list).
//
// Parameters: none.
CALL db.labels() YIELD label
WITH collect(label) AS labels
CALL db.relationshipTypes() YIELD relationshipType
RETURN [l IN labels WHERE l <> 'Model'] AS labels,
       [t IN collect(relationshipType) WHERE t <> 'RECOMMENDED'] AS types
