// model_checkpoint — the active model's version and the file its trained weights were saved to
// (kgrec.engine.neo4j.persist.load_active rebuilds the model from it).
//
// Returns: version, checkpoint (path, or null for a model published without one); no row before
// the first training.
//
// Parameters: none.
MATCH (m:Model {active: true})
RETURN m.version AS version, m.checkpoint AS checkpoint
LIMIT 1
