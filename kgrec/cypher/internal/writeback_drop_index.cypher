// writeback_drop_index — drop one of the engine's vector indexes (of a slot being rewritten or
// retired).
//
// Parameters: none. Slot: {{name:index}}.
DROP INDEX {{name:index}} IF EXISTS
