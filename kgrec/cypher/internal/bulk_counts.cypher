// bulk_counts: how many nodes and relationships the database holds (both from the count store,
// without a scan). The bulk import runs only when both are zero, and checks them afterwards
// against the rows it wrote.
CALL () { MATCH (n) RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() RETURN count(r) AS relationships }
RETURN nodes, relationships
