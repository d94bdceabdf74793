// publish_lock_acquire — take the publish lock of this database, or say who holds it. Under the
// publish_lock_constraint uniqueness constraint the MERGE is safe against a concurrent taker.
//
// Returns: owner, host, pid, started_at (text), idle_s (seconds since the holder's last
//          heartbeat, by the server's clock). The caller holds the lock iff owner = $owner.
//
// Parameters:
//   $name   string  the lock's name (one per database: 'publish')
//   $owner  string  a token unique to this run
//   $host   string  this machine's host name
//   $pid    integer this process's id
MERGE (l:PublishLock {name: $name})
ON CREATE SET l.owner = $owner, l.host = $host, l.pid = $pid, l.started_at = datetime(),
              l.heartbeat_at = datetime()
RETURN l.owner AS owner, l.host AS host, l.pid AS pid, toString(l.started_at) AS started_at,
       duration.inSeconds(l.heartbeat_at, datetime()).seconds AS idle_s
