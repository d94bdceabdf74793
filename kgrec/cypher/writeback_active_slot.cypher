// writeback_active_slot — the property slot of the active model ('a' or 'b'), if any.
//
// Returns: slot (no row when no model is active).
//
// Parameters: none.
MATCH (m:Model {active: true})
RETURN m.slot AS slot
