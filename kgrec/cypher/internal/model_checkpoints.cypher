// model_checkpoints — every :Model node's version and checkpoint file, active or not (the
// published model, the one it replaced until cleanup, leftovers of a run that died).
// kgrec.engine.neo4j.persist.prune_checkpoints compares two readings of it to find the files of
// models a write-back removed.
//
// Returns: version, checkpoint (path or null); one row per :Model node.
//
// Parameters: none.
MATCH (m:Model)
RETURN m.version AS version, m.checkpoint AS checkpoint
