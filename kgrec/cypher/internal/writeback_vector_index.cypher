// writeback_vector_index — the cosine vector index over one label's slot embedding property.
//
// Parameters:
//   $dim  integer  embedding size
// Slots: {{name:index}}, {{label:label}}, {{name:property}}.
CREATE VECTOR INDEX {{name:index}} IF NOT EXISTS
FOR (n:{{label:label}}) ON n.{{name:property}}
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}}
