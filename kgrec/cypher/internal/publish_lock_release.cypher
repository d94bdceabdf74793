// publish_lock_release — give the lock up (as its holder), or take over a stale one (naming the
// stale holder's token, so a lock a third run has taken meanwhile is never removed).
//
// Parameters:
//   $name   string  the lock's name
//   $owner  string  the token of the holder whose lock is removed
MATCH (l:PublishLock {name: $name, owner: $owner})
DELETE l
