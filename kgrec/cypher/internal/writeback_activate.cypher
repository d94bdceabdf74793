// writeback_activate — make a fully written model the active one, in one transaction: every
// query reads either the old model or the new one, never a mix. Only the holder of the
// database's publish lock may do it (a run whose lock was taken over activates nothing).
//
// Returns: previous (version that was active, or null); no row when $owner does not hold the
//          lock.
//
// Parameters:
//   $version  string  the model to activate
//   $lock     string  the publish lock's name
//   $owner    string  the token of the run holding it
MATCH (:PublishLock {name: $lock, owner: $owner})
MATCH (m:Model {version: $version})
OPTIONAL MATCH (old:Model {active: true})
WHERE old <> m
SET old.active = false, old.status = 'retired'
SET m.active = true, m.status = 'active'
RETURN old.version AS previous
