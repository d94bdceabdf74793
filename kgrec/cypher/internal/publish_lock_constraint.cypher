// publish_lock_constraint — at most one :PublishLock node per name, so two runs that try to take
// the lock at once cannot both create it (the second MERGE waits for the first and matches it).
//
// Parameters: none.
CREATE CONSTRAINT publish_lock_name IF NOT EXISTS
FOR (l:PublishLock) REQUIRE l.name IS UNIQUE
