// writeback_model — create (or reset) the :Model node of a version being written. It stays
// inactive (status 'writing') until writeback_activate flips it; queries never read it before.
//
// Returns: version.
//
// Parameters:
//   $version  string  the new model version
//   $props    map     slot, attention_property, embedding_property, message_property, item_index,
//                     user_index,
//                     dim, params (JSON text), metrics (JSON text)
MERGE (m:Model {version: $version})
SET m += $props, m.active = false, m.status = 'writing', m.trained_at = datetime()
RETURN m.version AS version
