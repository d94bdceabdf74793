// load_await_indexes: wait until the constraint indexes are online, so the load that follows
// seeks through them instead of scanning the label.
// Parameters: $timeout_seconds.
CALL db.awaitIndexes($timeout_seconds)
