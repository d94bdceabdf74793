// store_explanations — keep the best explanation paths of each materialised recommendation on
// its RECOMMENDED edge (property `explanations`, JSON text), so serving "what and why" costs one
// read. Computed with explain.cypher from the active model, and written only onto that model's
// edges: a model switch retires them together with the edges.
//
// Parameters:
//   $version  string  the model the paths were computed with (must still be active)
//   $rows     list of {user, item, explanations (JSON text)}
MATCH (m:Model {active: true, version: $version})
UNWIND $rows AS row
MATCH (:User {id: row.user})-[rec:RECOMMENDED]->(:Item {id: row.item})
WHERE rec.model = m.version
SET rec.explanations = row.explanations
