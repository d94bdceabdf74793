// bulk_indexes: indexes of an empty database that the bulk import would drop without
// re-creating them: all but the token lookup indexes every store has and the indexes that
// back a constraint (see bulk_constraints).
SHOW INDEXES YIELD name, type, owningConstraint
WHERE type <> 'LOOKUP' AND owningConstraint IS NULL
RETURN name, type
