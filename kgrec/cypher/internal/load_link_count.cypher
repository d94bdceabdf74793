// load_link_count: how many relationships of one knowledge/category type exist (answered from
// the count store, without a scan). Zero means the loader can skip looking for existing pairs.
// Slot: {{rel:rel}}.
MATCH ()-[r:{{rel:rel}}]->()
RETURN count(r) AS n
