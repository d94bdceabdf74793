// await_indexes — wait until every index is online: after a load creates its constraints (so the
// load that follows seeks through them instead of scanning the label), and after a write-back
// creates its vector indexes (so the model is not activated before its indexes can serve).
//
// Parameters:
//   $timeout_seconds  integer  how long to wait before the server gives up with an error
CALL db.awaitIndexes($timeout_seconds)
