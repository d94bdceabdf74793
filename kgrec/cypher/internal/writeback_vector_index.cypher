// writeback_vector_index — the cosine vector index over one label's slot embedding property.
// The embeddings estimate scores by dot product, and the queries re-rank the index's
// candidates by it: the candidates must contain the best items, which unquantised vectors and a
// denser HNSW graph give far more often than the defaults (bench/results/embeddings.json).
//
// Parameters:
//   $dim              integer  embedding size
//   $m                integer  HNSW links per node (Neo4j's default: 16)
//   $ef_construction  integer  HNSW candidates kept while building (Neo4j's default: 100)
//   $quantization     boolean  whether the index keeps its vectors quantised (Neo4j's default: true)
// Slots: {{name:index}}, {{label:label}}, {{name:property}}.
CREATE VECTOR INDEX {{name:index}} IF NOT EXISTS
FOR (n:{{label:label}}) ON n.{{name:property}}
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine',
                       `vector.hnsw.m`: $m, `vector.hnsw.ef_construction`: $ef_construction,
                       `vector.quantization.enabled`: $quantization}}
