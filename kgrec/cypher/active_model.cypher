// active_model — the model whose embeddings, attention and RECOMMENDED edges queries read.
//
// Returns: version, trained_at, params (JSON text), metrics (JSON text); no row before the
// first training.
//
// Parameters: none.
MATCH (m:Model {active: true})
RETURN m.version AS version, toString(m.trained_at) AS trained_at, m.params AS params, m.metrics AS metrics
LIMIT 1
