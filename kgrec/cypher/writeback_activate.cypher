// writeback_activate — make a fully written model the active one, in one transaction: every
// query reads either the old model or the new one, never a mix.
//
// Returns: previous (version that was active, or null).
//
// Parameters:
//   $version  string  the model to activate
MATCH (m:Model {version: $version})
OPTIONAL MATCH (old:Model {active: true})
WHERE old <> m
SET old.active = false, old.status = 'retired'
SET m.active = true, m.status = 'active'
RETURN old.version AS previous
