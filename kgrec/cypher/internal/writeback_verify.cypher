// writeback_verify — what a written model really holds in the database, checked against what
// its write-back wrote before it is activated (a model whose slot lost data is never served).
//
// Returns: embeddings (nodes with the slot's embedding, plus items with its message vector), attention (relationships with the
//          slot's attention), recommendations (RECOMMENDED edges of the version).
//
// Parameters:
//   $version             string  the model being published
//   $embedding_property  string  its slot's embedding property
//   $message_property    string  its slot's item message property
//   $attention_property  string  its slot's attention property
CALL () { MATCH (n) WHERE n[$embedding_property] IS NOT NULL RETURN count(n) AS vectors }
CALL () { MATCH (n:Item) WHERE n[$message_property] IS NOT NULL RETURN count(n) AS messages }
CALL () { MATCH ()-[r]->() WHERE r[$attention_property] IS NOT NULL RETURN count(r) AS attention }
CALL () { MATCH ()-[r:RECOMMENDED]->() WHERE r.model = $version RETURN count(r) AS recommendations }
RETURN vectors + messages AS embeddings, attention, recommendations
