"""Running the query library from Python: typed results for the CLI, the API and tests.

Every function takes the driver and database name, runs one query of :mod:`kgrec.cypher`
with parameters, and returns pydantic models. Reads go through ``execute_query`` with READ
routing (a managed transaction with the driver's retry). The functions the API calls take a
keyword ``timeout`` (seconds): Neo4j itself ends the query when it passes, so a request the
API has given up on stops using the server too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import neo4j

from kgrec import cypher
from kgrec.errors import KgrecError
from kgrec.progress import progress_bar
from kgrec.serving.results import (ActiveModel, ExplanationPath, PathNode, PathRelationship,
                                   Recommendation, RecommendationState, SimilarItem)
from kgrec.serving.sentences import sentence

class UnknownItemError(KgrecError, LookupError):
    """Interactions named items that are not in the graph; nothing was written."""

    def __init__(self, item_ids: Sequence[str]):
        self.item_ids = list(item_ids)
        super().__init__(f"unknown item ids: {', '.join(self.item_ids[:20])}"
                         + (" ..." if len(self.item_ids) > 20 else ""))


def _read(driver: neo4j.Driver, database: str, name: str, *, timeout_: float | None = None,
          **params: Any) -> list[neo4j.Record]:
    """Run query ``name``; with ``timeout_`` (seconds) the server ends it if it takes longer."""
    records, _, _ = driver.execute_query(neo4j.Query(cypher.load(name), timeout=timeout_), parameters_=params,
                                         database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return records


def plan(driver: neo4j.Driver, database: str, name: str, params: dict[str, Any]) -> None:
    """Have Neo4j plan query ``name`` for ``params`` without running it (``EXPLAIN``), so the
    next run of the same shape finds its plan cached. Neo4j keys a cached plan on the query
    text and on its parameters' types, a string's or list's size counted by order of magnitude
    (0, 1, 2-10, 11-100, ...: measured on 5.26), so ``params`` should be shaped like the runs
    to come. Nothing is read or written."""
    driver.execute_query(neo4j.Query("EXPLAIN " + cypher.load(name)), parameters_=params, database_=database)


def _json_field(value: Any) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)


def active_model(driver: neo4j.Driver, database: str, *, timeout: float | None = None) -> ActiveModel | None:
    """The active model (None before the first training): the one place Python looks it up, for
    the API, the write-back's choice of slot and the loading of its checkpoint alike."""
    records = _read(driver, database, "active_model", timeout_=timeout)
    if not records:
        return None
    row = records[0]
    return ActiveModel(**{**row.data(), "params": _json_field(row["params"]), "metrics": _json_field(row["metrics"])})


def _exists(driver: neo4j.Driver, database: str, user_id: str | None, item_id: str | None,
            timeout: float | None) -> neo4j.Record:
    return _read(driver, database, "node_exists", timeout_=timeout, user_id=user_id, item_id=item_id)[0]


def user_exists(driver: neo4j.Driver, database: str, user_id: str, *, timeout: float | None = None) -> bool:
    return bool(_exists(driver, database, user_id, None, timeout)["user_exists"])


def item_exists(driver: neo4j.Driver, database: str, item_id: str, *, timeout: float | None = None) -> bool:
    return bool(_exists(driver, database, None, item_id, timeout)["item_exists"])


def _path_from_row(row: neo4j.Record) -> ExplanationPath:
    path = ExplanationPath(
        nodes=[PathNode(**n) for n in row["nodes"]],
        relationships=[PathRelationship(**r) for r in row["relationships"]],
        weight=row["weight"], support=row["support"], shape=row["shape"], source=row["source"],
        disliked=row["disliked"], others=row["others"], channel=row["channel"], contribution=row["contribution"],
        share=row["share"])
    path.sentence = sentence(path)
    return path


def _explain(driver: neo4j.Driver, database: str, user_id: str, item_ids: Sequence[str], k: int,
             paths: int, timeout: float | None = None) -> dict[str, tuple[int | None, list[ExplanationPath]]]:
    """Paths per item: ``{item_id: (rank or None, [paths best first])}``.

    The query already gives one path per evidence item (co-interacting users merged into a
    count, a knowledge-graph path preferred); two evidence items can still read the same (two
    items with one title), so a sentence already given for the item is dropped: a person never
    reads the same explanation twice.
    """
    rows = _read(driver, database, "explain", timeout_=timeout, user_id=user_id, item_ids=list(item_ids), k=k,
                 paths=paths, draw=False)
    by_item: dict[str, tuple[int | None, list[ExplanationPath]]] = {}
    for row in rows:
        rank, found = by_item.setdefault(row["item_id"], (row["rank"], []))
        path = _path_from_row(row)
        if all(path.sentence != seen.sentence for seen in found):
            found.append(path)
    return by_item


def explanation_paths(driver: neo4j.Driver, database: str, user_id: str, item_id: str, limit: int = 5, *,
                      timeout: float | None = None) -> list[ExplanationPath]:
    """The explanations of the item for the user through up to ``limit`` evidence items, best
    first (may be empty; an evidence item may come with a second, weaker channel)."""
    return _explain(driver, database, user_id, [item_id], 0, limit, timeout).get(item_id, (None, []))[1]


def valid_evidence(driver: neo4j.Driver, database: str, user_id: str, item_id: str) -> list[str]:
    """Every item of the user's history with at least one explanation path to ``item_id``
    (any shape), sorted: the pool the faithfulness control draws a random valid path from."""
    return [r["item_id"] for r in _read(driver, database, "valid_evidence", user_id=user_id, item_id=item_id)]


def _recommendations(records: Sequence[Mapping[str, Any]], model: str | None = None) -> list[Recommendation]:
    return [Recommendation(item_id=r["item_id"], title=r["title"], score=r["score"], rank=r["rank"],
                           model=r.get("model", model), live=r.get("live", False)) for r in records]


def recommendations(driver: neo4j.Driver, database: str, user_id: str, k: int = 10, paths: int = 0, *,
                    timeout: float | None = None, stored: Sequence[Mapping[str, Any]] | None = None
                    ) -> list[Recommendation]:
    """The user's materialised top-``k`` from the active model; with ``paths`` > 0, each item
    carries its best ``paths`` explanations (an item with no path gets an empty list).
    ``stored``: those items as already read (:func:`recommendation_state`), else they are read.

    Paths stored on the edges (by :func:`store_explanations`, or by an earlier call) are served
    as they are when they are enough; the others are computed with the same query and the same
    model, and stored on their edges, so that asking again (a live list explained a second time,
    Neo4j Browser) is one read.
    """
    records = stored if stored is not None else _read(driver, database, "recommendations", timeout_=timeout,
                                                      user_id=user_id, k=k, item_ids=[])
    recs = _recommendations(records)
    if paths > 0 and recs:
        missing = []
        for rec, record in zip(recs, records):
            stored = json.loads(record["explanations"]) if record["explanations"] else None
            if stored is not None:
                kept = _of_first_evidence([ExplanationPath(**p) for p in stored["paths"]], paths)
            if stored is not None and (len({p.evidence for p in kept}) >= paths or stored["complete"]):
                rec.explanations = kept
            else:
                missing.append(rec)
        if missing:
            items = [r.item_id for r in missing]
            explained = _explain(driver, database, user_id, items, k, paths, timeout)
            for rec in missing:
                rec.explanations = explained.get(rec.item_id, (None, []))[1]
            _store(driver, database, recs[0].model, _explanation_rows(user_id, items, explained, paths), timeout=timeout)
        for rec, record in zip(recs, records):
            _attach_phrases(rec.explanations or [], record["phrases"])
    return recs


def _attach_phrases(paths: list[ExplanationPath], stored: str | None) -> None:
    """Give ``paths`` the phrasing verdicts stored for them on their edge (see :func:`store_phrases`)."""
    verdicts = json.loads(stored) if stored else {}
    for path in paths:
        path._verdict = verdicts.get(path.key)


def store_phrases(driver: neo4j.Driver, database: str, user_id: str, recs: Sequence[Recommendation], *,
                  timeout: float | None = None) -> int:
    """Keep the phrasing verdicts of ``recs``' explanation paths (the model's sentence, accepted
    or rejected and why) on their RECOMMENDED edges, replacing what was there; returns the edges
    written."""
    rows = [{"user": user_id, "item": rec.item_id,
             "phrases": json.dumps({p.key: p._verdict for p in rec.explanations or [] if p._verdict})}
            for rec in recs if any(p._verdict for p in rec.explanations or [])]
    if rows and recs[0].model:
        driver.execute_query(neo4j.Query(cypher.load("store_phrases"), timeout=timeout), version=recs[0].model,
                             rows=rows, database_=database)
    return len(rows)


def _of_first_evidence(paths: list[ExplanationPath], evidence: int) -> list[ExplanationPath]:
    """The paths of the first ``evidence`` distinct evidence items (an evidence item may be
    shown through two channels)."""
    first: list[str] = []
    for path in paths:
        if path.evidence not in first and len(first) < evidence:
            first.append(path.evidence)
    return [path for path in paths if path.evidence in first]


def recommendation_state(driver: neo4j.Driver, database: str, user_id: str, k: int = 0, *,
                         timeout: float | None = None) -> RecommendationState:
    """Whether the user's stored list is current for the active model; if not, the user's
    interactions to fold the user in from; if so, its first ``k`` items (see
    ``recommendation_state.cypher``)."""
    return RecommendationState(**_read(driver, database, "recommendation_state", timeout_=timeout,
                                       user_id=user_id, k=k)[0].data())


def store_live_recommendations(driver: neo4j.Driver, database: str, user_id: str, live: Any, property_: str, *,
                               timeout: float | None = None) -> list[Recommendation] | None:
    """Write through a list computed live (a :class:`kgrec.engine.fold_in.LiveList`): the user's
    RECOMMENDED edges of that model, their embedding in ``property_`` and the marks that make it
    current. Returns the stored list, or None when ``live.version`` is no longer the active
    model (nothing is written then)."""
    records, _, _ = driver.execute_query(
        neo4j.Query(cypher.load("store_live_recommendations"), timeout=timeout), database_=database,
        user_id=user_id, version=live.version, items=live.items, scores=live.scores, evidence=live.evidence,
        weights=live.evidence_weights, channels=live.channels, embedding=live.embedding, property=property_, history=live.history)
    if not records:
        return None
    return [Recommendation(**row, model=live.version, live=True) for row in records[0]["stored"]]


def store_explanations(driver: neo4j.Driver, database: str, paths: int = 3,
                       user_ids: Sequence[str] | None = None, progress: bool = True, workers: int = 2) -> int:
    """Compute the best ``paths`` explanations of every recommendation of the active model (or of
    ``user_ids``' only) and keep them on the RECOMMENDED edges; returns the edges written.

    One explain query per user, ``workers`` users at a time (the server plans and runs each on one
    core), written per batch of users. If another model becomes active meanwhile, nothing more is
    written (the query only writes onto the active model's edges).
    """
    model = active_model(driver, database)
    if model is None:
        return 0
    lists = {r["id"]: r["items"] for r in _read(driver, database, "recommended_users", version=model.version)}
    users = list(lists) if user_ids is None else [user for user in user_ids if user in lists]

    def rows_of(user: str) -> list[dict]:
        return _explanation_rows(user, lists[user], _explain(driver, database, user, lists[user], 0, paths), paths)

    written, rows = 0, []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for user_rows in progress_bar(pool.map(rows_of, users), total=len(users), desc="explanations", unit="users",
                                      enabled=progress):
            rows += user_rows
            if len(rows) >= 2000:
                written += _store(driver, database, model.version, rows)
                rows = []
    return written + (_store(driver, database, model.version, rows) if rows else 0)


def _explanation_rows(user: str, items: Sequence[str], explained: dict[str, tuple[int | None, list[ExplanationPath]]],
                      paths: int) -> list[dict]:
    """The ``explanations`` property (JSON) of each of the user's ``items``, as
    :func:`recommendations` reads it back: ``complete`` when the item has fewer evidence items
    with a path than ``paths`` (asking for more would find no more)."""
    rows = []
    for item in items:
        found = explained.get(item, (None, []))[1]
        rows.append({"user": user, "item": item, "explanations": json.dumps(
            {"complete": len({p.evidence for p in found}) < paths, "paths": [p.model_dump() for p in found]})})
    return rows


def _store(driver: neo4j.Driver, database: str, version: str, rows: list[dict], *,
           timeout: float | None = None) -> int:
    driver.execute_query(neo4j.Query(cypher.load("store_explanations"), timeout=timeout), version=version, rows=rows,
                         database_=database)
    return len(rows)


def recommendation_for(driver: neo4j.Driver, database: str, user_id: str, item_id: str, *,
                       timeout: float | None = None) -> Recommendation | None:
    """The user's materialised recommendation of ``item_id`` by the active model, if any."""
    found = _recommendations(_read(driver, database, "recommendations", timeout_=timeout, user_id=user_id, k=1,
                                   item_ids=[item_id]))
    return found[0] if found else None


def embedding_recommendations(driver: neo4j.Driver, database: str, user_id: str, k: int = 10, *,
                         timeout: float | None = None) -> list[Recommendation]:
    """Nearest unseen items to the user's embedding (vector index); [] if the user has none."""
    return _recommendations(_read(driver, database, "embedding_recommendations", timeout_=timeout, user_id=user_id, k=k))


def fallback_recommendations(driver: neo4j.Driver, database: str, user_id: str, k: int = 10, *,
                             timeout: float | None = None) -> list[Recommendation]:
    """Popular items in the user's categories, then overall; never an item the user has seen."""
    return _recommendations(_read(driver, database, "fallback_recommendations", timeout_=timeout,
                                  user_id=user_id, k=k))


def similar_items(driver: neo4j.Driver, database: str, item_id: str, k: int = 10, *,
                  timeout: float | None = None) -> list[SimilarItem]:
    rows = _read(driver, database, "similar_items", timeout_=timeout, item_id=item_id, k=k)
    return [SimilarItem(item_id=r["item_id"], title=r["title"], similarity=r["similarity"],
                        shared=[PathNode(**n) for n in r["shared"]]) for r in rows]


def record_interactions(driver: neo4j.Driver, database: str, rows: Sequence[dict[str, Any]], *,
                        timeout: float | None = None) -> int:
    """Write interactions in one transaction; unknown items raise :class:`UnknownItemError`
    before anything is written. ``weight`` defaults to the rating, else 1.0 (as the loaders do).
    With ``timeout`` (seconds) the server ends the transaction if it takes longer (e.g. waiting
    for locks), so nothing is committed after the caller gave up."""
    clean = [{"user_id": str(r["user_id"]), "item_id": str(r["item_id"]),
              "rating": r.get("rating"), "ts": r.get("ts"),
              "weight": float(r["weight"] if r.get("weight") is not None
                              else r["rating"] if r.get("rating") is not None else 1.0)}
             for r in rows]

    @neo4j.unit_of_work(timeout=timeout)
    def work(tx: neo4j.ManagedTransaction) -> int:
        missing = tx.run(cypher.load("missing_items"),
                         item_ids=sorted({r["item_id"] for r in clean})).single()["missing"]
        if missing:
            raise UnknownItemError(missing)
        return tx.run(cypher.load("record_interactions"), rows=clean).single()["recorded"]

    with driver.session(database=database) as session:
        return session.execute_write(work)


def item_links(driver: neo4j.Driver, database: str, item_ids: Sequence[str], *,
               timeout: float | None = None) -> dict[str, list[tuple[tuple[str, str, str], str]]]:
    """Item id -> its links to entities, ``((head label, type, tail label), entity id)``, for
    each of ``item_ids`` that exists (see ``item_links.cypher``)."""
    return {r["item_id"]: [((link["head"], link["type"], link["tail"]), str(link["entity_id"])) for link in r["links"]]
            for r in _read(driver, database, "item_links", timeout_=timeout, item_ids=list(item_ids))}


def added_items(driver: neo4j.Driver, database: str, version: str, *,
                timeout: float | None = None) -> tuple[int, list[str]]:
    """Model ``version``'s count of items added after its training, and the ids of those that
    still exist (see ``added_items.cypher``); (0, []) for a model no longer in the graph."""
    records = _read(driver, database, "added_items", timeout_=timeout, version=version)
    return (records[0]["added_items"], list(records[0]["item_ids"])) if records else (0, [])


def store_new_items(driver: neo4j.Driver, database: str, version: str, item_ids: Sequence[str],
                    embeddings: Any, messages: Any, *, timeout: float | None = None) -> bool:
    """Write through the embeddings and message vectors of items model ``version`` now scores
    from their knowledge links, and mark the users whose lists may now hold them for folding in
    again (see ``store_new_items.cypher``). False when ``version`` is no longer the active model
    (nothing is written then)."""
    records, _, _ = driver.execute_query(
        neo4j.Query(cypher.load("store_new_items"), timeout=timeout), database_=database, version=version,
        item_ids=list(item_ids), embeddings=[[float(x) for x in row] for row in embeddings],
        messages=[[float(x) for x in row] for row in messages])
    return bool(records)
