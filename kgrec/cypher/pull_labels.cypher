// pull_labels — for every relationship type and label, how many relationships of that type
// start and end at nodes with that label: the (head, type, tail) combinations to pull are the
// labels with out > 0 paired with the labels with in > 0. kgrec's own Model nodes and
// RECOMMENDED edges are left out.
//
// Returns: type, label, out, in.
//
// Parameters: none.
CALL db.relationshipTypes() YIELD relationshipType AS type
WITH type
WHERE type <> 'RECOMMENDED'
CALL db.labels() YIELD label
WITH type, label
WHERE label <> 'Model'
WITH type, label, COUNT { (:$(label))-[:$(type)]->() } AS out, COUNT { ()-[:$(type)]->(:$(label)) } AS in
WHERE out > 0 OR in > 0
RETURN type, label, out, in
