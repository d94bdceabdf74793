// load_constraint: a uniqueness constraint on `id` for one label, created before any write.
// The constraint's index makes every MERGE/MATCH on id an index seek, and it stops two loads
// from ever creating the same node twice. Slot: {{label:label}} (checked against the allow-list).
CREATE CONSTRAINT IF NOT EXISTS FOR (n:{{label:label}}) REQUIRE n.id IS UNIQUE
