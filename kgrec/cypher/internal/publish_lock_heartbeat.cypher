// publish_lock_heartbeat — the holder says it is still alive, so nobody takes the lock over.
//
// Returns: held (1 while $owner holds the lock, 0 once it lost it).
//
// Parameters:
//   $name   string  the lock's name
//   $owner  string  the holder's token
OPTIONAL MATCH (l:PublishLock {name: $name, owner: $owner})
SET l.heartbeat_at = datetime()
RETURN count(l) AS held
