"""What a database holds, in forms that compare with ``==``: for tests that check two loads
gave the same graph, or that a failed load changed nothing."""

from __future__ import annotations

import neo4j


def snapshot(driver: neo4j.Driver, database: str) -> tuple[list, list]:
    """Every node (labels, properties) and relationship (ends' ids, type, properties), sorted."""
    nodes = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.id, labels[0]",
        database_=database).records
    rels = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS type, b.id AS b, properties(r) AS props "
        "ORDER BY a, type, b", database_=database).records
    return [(r["labels"], r["props"]) for r in nodes], [(r["a"], r["type"], r["b"], r["props"]) for r in rels]


def counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    """Nodes per (first) label and relationships per type."""
    nodes = driver.execute_query("MATCH (n) RETURN labels(n)[0] AS k, count(*) AS n", database_=database).records
    rels = driver.execute_query("MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n", database_=database).records
    return {r["k"]: r["n"] for r in nodes + rels}


def schema(driver: neo4j.Driver, database: str) -> tuple[list, list]:
    """Constraints and indexes by what they cover (their generated names may differ)."""
    constraints = driver.execute_query(
        "SHOW CONSTRAINTS YIELD type, entityType, labelsOrTypes, properties "
        "RETURN type, entityType, labelsOrTypes, properties", database_=database).records
    indexes = driver.execute_query(
        "SHOW INDEXES YIELD type, entityType, labelsOrTypes, properties, owningConstraint "
        "RETURN type, entityType, labelsOrTypes, properties, owningConstraint IS NOT NULL AS owned",
        database_=database).records
    return sorted(map(str, (r.values() for r in constraints))), sorted(map(str, (r.values() for r in indexes)))
