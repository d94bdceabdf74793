// pull_type_counts — how many relationships of one type start and end at nodes of one label.
// Both counts come from Neo4j's counts store (no scan), which only happens when the label and
// type are written literally, hence the slots.
//
// Returns: out, in.
//
// Parameters: none. Slots: {{label:label}}, {{rel:type}}.
CALL () { MATCH (:{{label:label}})-[:{{rel:type}}]->() RETURN count(*) AS out }
CALL () { MATCH ()-[:{{rel:type}}]->(:{{label:label}}) RETURN count(*) AS in }
RETURN out, in
