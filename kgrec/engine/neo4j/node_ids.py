"""Internal node ids: the integer handle on a node that the pull returns and the write-back
seeks by, in place of the ``id`` property.

Why: a string id costs the driver far more to decode than an integer (the pull), and a seek by
internal id costs the server less than a lookup in the ``id`` index (the write-back). Neo4j may
reuse an internal id once its node is deleted, so internal ids are read right before they are
used and never stored; writes check the ``id`` property as well.
"""

from __future__ import annotations

import neo4j
import numpy as np

from kgrec import cypher
from kgrec.errors import KgrecError


class NodeWithoutIdError(KgrecError, ValueError):
    """Nodes kgrec reads have no ``id`` property, so they cannot be told apart or written back."""


def session(driver: neo4j.Driver, database: str, access_mode: str = neo4j.READ_ACCESS) -> neo4j.Session:
    """A session for queries that use ``id()``: deprecated in Cypher 5 but the only integer
    handle on a node, so its deprecation warning (logged on every query) is switched off."""
    return driver.session(database=database, default_access_mode=access_mode,
                          notifications_disabled_classifications=[neo4j.NotificationDisabledClassification.DEPRECATION])


def read(driver: neo4j.Driver, database: str, label: str) -> tuple[np.ndarray, np.ndarray]:
    """(internal ids, id properties) of every node of ``label``, aligned, in one row."""
    with session(driver, database) as s:
        row = s.run(cypher.render("pull_node_ids", label=label)).single(strict=True)
    if len(row["ids"]) != len(row["nodes"]):  # collect() leaves out the missing ids
        missing = len(row["nodes"]) - len(row["ids"])
        raise NodeWithoutIdError(
            f"{missing:,} :{label} node(s) in database {database!r} have no `id` property; every node kgrec "
            f"reads needs one. Find them with `MATCH (n:{label}) WHERE n.id IS NULL RETURN n`, then give "
            "them an id or delete them")
    return np.asarray(row["nodes"], dtype=np.int64), np.array(row["ids"], dtype=object)
