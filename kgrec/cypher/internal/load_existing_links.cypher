// load_existing_links: the (head, tail) pairs of one relationship type that already leave a
// batch of head nodes. The loader compares them with its input and CREATEs only the new pairs:
// per-row MERGE into a dense relationship type runs at ~3k rows/s, this diff plus CREATE at
// ~50k/s. One row per head with a collected list decodes 10x faster than one row per pair.
// Slots: {{rel:rel}}, {{label:tail}}. Parameters: $heads (element ids).
UNWIND $heads AS head
MATCH (h) WHERE elementId(h) = head
MATCH (h)-[:{{rel:rel}}]->(t:{{label:tail}})
RETURN head, collect(elementId(t)) AS tails
