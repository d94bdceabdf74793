// bulk_constraints: the constraints of an empty database about to be replaced by a bulk import.
// The loader keeps the ones it creates itself (uniqueness of `id` per label) and refuses to
// run over any other, which the import would silently drop.
SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties
RETURN name, type, entityType, labelsOrTypes, properties
