// store_phrases — keep the language model's accepted phrases of a recommendation's explanation
// paths on its RECOMMENDED edge (property `phrases`, JSON text: {path key: {text, by}}), so a
// repeated request and Neo4j Browser read them instead of asking the model again. Written only
// onto the active model's edges: the phrases state that model's facts (counts, shares).
//
// Parameters:
//   $version  string  the model whose edges the paths explain (must still be active)
//   $rows     list of {user, item, phrases (JSON text)}
MATCH (m:Model {active: true, version: $version})
UNWIND $rows AS row
MATCH (:User {id: row.user})-[rec:RECOMMENDED]->(:Item {id: row.item})
WHERE rec.model = m.version
SET rec.phrases = row.phrases
