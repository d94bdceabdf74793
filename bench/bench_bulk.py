"""Bulk import benchmark: the synthetic sample into an empty local server with ``--bulk``,
beside the transactional first load of the same graph, and what the graph costs where it lives.

Prints one JSON object:

- ``bulk``: into a running server with an empty database: per run, the seconds of each step
  (write files, check empty, stop server, import, start server, constraints), interactions/s
  end to end, without the server's stop and start, and of the import step alone; the CPU
  seconds of the importer (its JVM) and of the restarted server until the load returned; the
  1-minute load average before and after (the machine may be shared); medians over
  ``--repeat`` runs;
- ``bulk_fresh``: the same, into a stopped server whose database has no files yet, as in a
  new ``KGREC_HOME`` (the system database is kept): nothing to check or stop, the server starts
  once, after the import;
- ``transactional``: the same graph written by ``write_graph`` into the same emptied database
  (the comparison under the same machine load);
- ``store``: the database's store files on disk after each load, per interaction;
- ``engine``: the pull of the bulk-imported graph, and the bytes per interaction of the
  engine's columns (:class:`~kgrec.engine.data.graph.GraphColumns`) and of the model's flat view
  (:func:`~kgrec.engine.data.graph.flatten`).

Each load starts from an empty database: the server is stopped, the database's files removed,
and (``bulk``) the server started again (not timed). The two kinds alternate, run by run.

    export KGREC_HOME=... KGREC_BOLT_PORT=...   # the local server kgrec neo4j start runs
    .venv/bin/python bench/bench_bulk.py --interactions 1000000 --repeat 2 --out bench/results/bulk.json

It empties that server's database. It needs the local server (the import writes its files).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from recording import print_and_record

STEPS_RESTART = ("stop server", "start server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000, help="sample size (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="bulk imports to time (default 1)")
    parser.add_argument("--no-transactional", action="store_true", help="skip the transactional comparison")
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()
    if os.environ.get("NEO4J_URI"):
        print_and_record({"skipped": "the bulk import needs kgrec's local server; NEO4J_URI is set"}, None, 0)
        return

    from kgrec.config import open_driver
    from kgrec.loaders import write_graph
    from kgrec.loaders.bulk import bulk_write_graph
    from kgrec.loaders.synthetic import generate_sample
    from kgrec.loaders.validate import ensure_validated
    from kgrec.settings import read_settings

    server = read_settings()
    layout, settings = server.layout, server.neo4j
    graph = ensure_validated(generate_sample(n_interactions=args.interactions, seed=args.seed))
    interactions = len(graph.interactions)
    result: dict = {"interactions_requested": args.interactions, "interactions": interactions,
                    "seed": args.seed, "machine": {"cpus": os.cpu_count()}, "bulk": {"runs": []}}

    for _ in range(args.repeat):
        for kind, running in (("bulk", True), ("bulk_fresh", False)):
            _empty(server, settings.database, start=running)
            result.setdefault(kind, {"runs": []})["runs"].append(
                _timed_bulk(graph, server, bulk_write_graph, interactions))
    for kind in ("bulk", "bulk_fresh"):
        runs = result[kind]["runs"]
        for key in ("seconds", "interactions_per_s", "interactions_per_s_without_restart",
                    "import_interactions_per_s", "importer_cpu_s", "server_cpu_s"):
            result[kind][f"median_{key}"] = statistics.median(run[key] for run in runs)
        result[kind]["median_steps"] = {step: statistics.median(run["steps"][step] for run in runs)
                                        for step in runs[0]["steps"]}
    result["bulk"]["peak_rss_mb"] = _peak_rss_mb()
    result["store"] = {"bulk": _store(layout, settings.database, interactions)}

    with open_driver(settings) as driver:
        result["engine"] = _engine(driver, settings.database, interactions)
        if not args.no_transactional:
            _empty(server, settings.database, start=True)
            load_average = os.getloadavg()[0]
            summary = write_graph(driver, graph, database=settings.database, progress=False)
            result["transactional"] = {"seconds": round(summary.seconds, 2),
                                       "interactions_per_s": round(interactions / summary.seconds),
                                       "load_average_1m": load_average}
            result["store"]["transactional"] = _store(layout, settings.database, interactions)
    print_and_record(result, args.out, args.interactions)


def _timed_bulk(graph, server, bulk_write_graph, interactions: int) -> dict:
    """One bulk load, its steps, rates, CPU seconds and the machine's load around it."""
    from kgrec.neo4j_server import lifecycle

    load_before = os.getloadavg()[0]
    with _importer_cpu() as importer_cpu:
        summary = bulk_write_graph(graph, server, progress=False)
    restart = sum(summary.phases[step] for step in STEPS_RESTART)
    return {
        "seconds": round(summary.seconds, 2),
        "steps": {name: round(seconds, 2) for name, seconds in summary.phases.items()},
        "interactions_per_s": round(interactions / summary.seconds),
        "interactions_per_s_without_restart": round(interactions / (summary.seconds - restart)),
        "import_interactions_per_s": round(interactions / summary.phases["import"]),
        "importer_cpu_s": round(sum(importer_cpu), 2),
        "server_cpu_s": _process_cpu_s(lifecycle.status(server.layout).pid),
        "load_average_1m": load_before,
        "load_average_1m_after": os.getloadavg()[0],
    }


@contextmanager
def _importer_cpu() -> Iterator[list[float]]:
    """CPU seconds of the admin tool's runs inside the block. A stopped server is a child of
    this process too (it started it) and would be counted whenever it is reaped, so exited
    children are reaped before each run."""
    from kgrec.neo4j_server import admin

    seconds: list[float] = []
    run_admin = admin.run_admin

    def measured(*args, **kwargs):
        _reap_exited_children()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            return run_admin(*args, **kwargs)
        finally:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    admin.run_admin = measured
    try:
        yield seconds
    finally:
        admin.run_admin = run_admin


def _reap_exited_children() -> None:
    """Wait for the children of this process that are exiting or have exited (an exiting
    process has no command line any more), so that their CPU is counted now."""
    for proc in Path("/proc").iterdir():
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            exiting = parent == os.getpid() and not (proc / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if exiting:
            os.waitpid(int(proc.name), 0)


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used since it started."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def _empty(server, database: str, *, start: bool) -> None:
    """An empty database, fast: remove its files while the server is stopped (wiping a million
    relationships through Cypher takes longer than the import); the server started again unless
    ``start`` is false."""
    from kgrec.neo4j_server import lifecycle
    from kgrec.neo4j_server.admin import remove_store

    lifecycle.stop(server.layout)
    remove_store(server.layout, database)
    if start:
        lifecycle.start(server.layout, settings=server)


def _store(layout, database: str, interactions: int) -> dict:
    """Bytes on disk (allocated blocks) of the store files and of the transaction logs."""
    data = layout.server_home / "data"
    store = _disk_bytes(data / "databases" / database)
    logs = _disk_bytes(data / "transactions" / database)
    return {"store_mb": round(store / 2**20, 1), "transaction_logs_mb": round(logs / 2**20, 1),
            "store_bytes_per_interaction": round(store / interactions, 1)}


def _disk_bytes(folder: Path) -> int:
    return sum(path.stat().st_blocks * 512 for path in folder.rglob("*") if path.is_file())


def _engine(driver, database: str, interactions: int) -> dict:
    """The pull right after the import, and the bytes per interaction the engine holds."""
    from kgrec.engine.data.graph import INTERACTION_KEY, flatten
    from kgrec.engine.neo4j.pull import pull_graph

    columns, stats = pull_graph(driver, database)
    edge_bytes = sum(h.nbytes + t.nbytes for h, t in columns.edges.values())
    attr_bytes = sum(a.nbytes for attrs in columns.edge_attrs.values() for a in attrs.values())
    id_bytes = sum(sum(sys.getsizeof(i) for i in ids) + ids.nbytes for ids in columns.node_ids.values())
    head, tail = columns.edges[INTERACTION_KEY]
    interaction_bytes = head.nbytes + tail.nbytes + sum(a.nbytes for a in columns.edge_attrs[INTERACTION_KEY].values())
    started = time.perf_counter()
    flat = flatten(columns)
    flatten_s = time.perf_counter() - started
    flat_bytes = sum(t.element_size() * t.nelement() for t in vars(flat).values() if isinstance(t, torch.Tensor))
    return {
        "pull_seconds": round(stats.seconds, 2),
        "pull_relationships_per_s": round(stats.relationships_per_s),
        "relationships": stats.relationships,
        "columns_bytes_per_interaction": round((edge_bytes + attr_bytes) / interactions, 1),
        "interaction_columns_bytes_per_interaction": round(interaction_bytes / interactions, 1),
        "node_id_mb": round(id_bytes / 2**20, 1),
        "flat_graph_bytes_per_interaction": round(flat_bytes / interactions, 1),
        "flatten_seconds": round(flatten_s, 2),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    main()
