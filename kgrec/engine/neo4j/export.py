"""Exporting the active model's materialised recommendations as CSV (``user_id,item_id,rank,score``).

For offline comparison with other systems: the file holds exactly the RECOMMENDED edges of
the active model. Rows stream from Neo4j to the file (one record in memory at a time, fetched
in pages), so a million edges cost no more memory than ten.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from typing import TextIO

import neo4j

from kgrec import cypher

log = logging.getLogger(__name__)

HEADER = ("user_id", "item_id", "rank", "score")


@dataclass(frozen=True)
class ExportStats:
    rows: int
    model: str | None  # None when there was nothing to export (no active model)


def export_recommendations(driver: neo4j.Driver, database: str, out: TextIO,
                           fetch_size: int = 10_000) -> ExportStats:
    """Write the header and every RECOMMENDED edge of the active model to ``out`` as CSV.

    Users are in id order, each user's items best first. The active version is read once at
    the start, so the file never mixes two models; a training run that switches models while
    the export runs removes the old edges, which can cut the file short (re-run the export).

    Example:
        >>> with open("recs.csv", "w", newline="") as f:  # doctest: +SKIP
        ...     export_recommendations(driver, "neo4j", f)
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    rows, model = 0, None
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=fetch_size) as session:
        for record in session.run(cypher.load("export_recommendations"), user_ids=[]):
            writer.writerow((record["user_id"], record["item_id"], record["rank"], repr(record["score"])))
            rows, model = rows + 1, record["model"]
    log.info("exported %d recommendations of model %s", rows, model)
    return ExportStats(rows, model)
