// load_links: create one batch of property-less relationships (IN_CATEGORY, SUBCATEGORY_OF,
// knowledge triples) between nodes given by element id. The loader sends only pairs that do not
// exist yet (see load_existing_relationships), so CREATE never duplicates.
// Parallel lists encode faster in the driver than a list of maps.
// Slot: {{rel:rel}}. Parameters: $heads, $tails (element ids, same length).
UNWIND range(0, size($heads) - 1) AS k
MATCH (h) WHERE elementId(h) = $heads[k]
MATCH (t) WHERE elementId(t) = $tails[k]
CREATE (h)-[:{{rel:rel}}]->(t)
