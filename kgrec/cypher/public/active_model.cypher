// active_model — the model whose embeddings, attention and RECOMMENDED edges queries read: its
// provenance, and where its data lives. The one lookup of the active model for Python callers
// (queries that join on it inside a larger statement keep their own MATCH).
//
// Returns: version, trained_at, params (JSON text), metrics (JSON text), checkpoint (path of the
// saved model, or null), slot ('a' or 'b'), embedding_property, attention_property, item_index,
// user_index (the slot's property and vector index names; null on a model written before slots);
// no row before the first training.
//
// Parameters: none.
MATCH (m:Model {active: true})
RETURN m.version AS version, toString(m.trained_at) AS trained_at, m.params AS params, m.metrics AS metrics,
       m.checkpoint AS checkpoint, m.slot AS slot, m.embedding_property AS embedding_property,
       m.attention_property AS attention_property, m.item_index AS item_index, m.user_index AS user_index
LIMIT 1
