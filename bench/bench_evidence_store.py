"""What storing each recommendation's channel parts costs the write-back (JSON on stdout).

The write-back stores on every RECOMMENDED edge the evidence and its contributions and, since
explanations follow the channel that carries the weight, how each contribution splits
(``evidence_channels`` and ``evidence_links``). This times ``write_model`` of
the same top-K lists with and without that split, alternating, on the graph the configured
server holds (e.g. the bulk-loaded 1M sample), and the RECOMMENDED step alone. The lists are
drawn at random from the graph's own items and entities (the write-back's cost depends on the
sizes, not on the values), so no training is needed. Besides wall seconds it reports the
server's CPU seconds in the RECOMMENDED step (sampled): on a shared machine they say more
about the work than the wall time does.

    kgrec load sample --size 1000000 --bulk
    python bench/bench_evidence_store.py --repeat 2 --out bench/results/evidence_store.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from kgrec.config import open_driver
from kgrec.engine.neo4j.pull import pull_graph
from kgrec.engine.neo4j.writeback import write_model
from kgrec.engine.output import EVIDENCE, ModelOutput
from kgrec.graph_schema import ITEM, USER
from kgrec.neo4j_server import lifecycle
from kgrec.settings import read_settings
from recording import print_and_record


def _output(columns, k: int, channels: bool, users: int, rng: np.random.Generator) -> ModelOutput:
    n_users, n_items = len(columns.node_ids[USER]), len(columns.node_ids[ITEM])
    top = np.stack([rng.choice(n_items, k, replace=False) for _ in range(n_users)])
    top[users:] = -1  # only the first ``users`` get a list
    evidence = rng.integers(0, n_items, (n_users, k, EVIDENCE))
    weights = rng.random((n_users, k, EVIDENCE)).astype(np.float32)
    split = None
    if channels:
        from kgrec.engine.models.base import ChannelParts
        from kgrec.engine.models.item_graph_attention import LINKS_KEPT

        relations = [key for key in columns.edges if key[0] == ITEM and key[2] not in (ITEM, USER)]
        entity_ids = [np.asarray(columns.node_ids[key[2]], dtype=object) for key in relations]
        shape = (n_users, k, EVIDENCE, LINKS_KEPT)
        relation = rng.integers(0, len(relations), shape)
        split = ChannelParts(collaborative=weights * 0.9, knowledge=weights * 0.1,
                             link_relation=relation.astype(np.int16),
                             link_entity=rng.integers(0, min(len(ids) for ids in entity_ids), shape).astype(np.int32),
                             link_part=np.repeat((weights * 0.05)[..., None], LINKS_KEPT, -1),
                             relation_types=[key[1] for key in relations], entity_ids=entity_ids)
    category = next(key for key in columns.edges if key[1] == "IN_CATEGORY")
    return ModelOutput(version=f"bench-{uuid.uuid4().hex[:8]}", embeddings={ITEM: rng.random((n_items, 8))},
                       attention={category: rng.random(len(columns.edges[category][0]))}, top_items=top, top_scores=rng.random((n_users, k)).astype(np.float32),
                       evidence_items=evidence, evidence_weights=weights,
                       **({"evidence_channels": split} if channels else {}))


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far: on a shared machine the server's
    CPU says more about the work than the wall time does."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _CpuSampler:
    """The server's CPU seconds sampled every 0.2 s in a daemon thread, so the CPU of one step of
    the write-back (its start and length come from the write-back's own timings) can be read."""

    def __init__(self, pid: int):
        self._pid, self._samples, self._stop = pid, [], threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._samples.append((time.monotonic(), _cpu_s(self._pid)))
            self._stop.wait(0.2)

    def __enter__(self) -> "_CpuSampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._samples.append((time.monotonic(), _cpu_s(self._pid)))

    def between(self, start: float, end: float) -> float:
        times, cpu = zip(*self._samples)
        return float(np.interp(end, times, cpu) - np.interp(start, times, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=20, help="recommendations per user (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="write-backs of each kind (default %(default)s)")
    parser.add_argument("--users", type=int, help="write the lists of this many users only (default: every user)")
    parser.add_argument("--kinds", nargs="+", default=["without_channels", "with_channels"],
                        choices=["without_channels", "with_channels"],
                        help="what to write (default both; without_channels alone also runs on the code before "
                             "the split, e.g. with PYTHONPATH at a checkout of it, for a before/after)")
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    kgrec_settings = read_settings()
    settings = kgrec_settings.neo4j
    rng = np.random.default_rng(0)
    runs: dict[str, list[dict]] = {kind: [] for kind in args.kinds}
    with open_driver(settings) as driver:
        columns, _ = pull_graph(driver, settings.database)
        users = args.users or len(columns.node_ids[USER])
        outputs = {kind: _output(columns, args.k, kind == "with_channels", users, rng) for kind in args.kinds}
        server = lifecycle.status(kgrec_settings.layout).pid
        for _ in range(args.repeat):
            for kind, output in outputs.items():
                output.version = f"bench-{uuid.uuid4().hex[:8]}"
                load = os.getloadavg()[0]
                started, client_cpu = time.monotonic(), time.process_time()
                with _CpuSampler(server) as server_cpu:
                    stats = write_model(driver, settings.database, columns, output, progress=False)
                steps = list(stats.seconds.items())  # in the order the write-back ran them
                offset = sum(seconds for step, seconds in steps[:[s for s, _ in steps].index("recommended")])
                recommended = (started + offset, started + offset + stats.seconds["recommended"])
                runs[kind].append({"seconds": round(time.monotonic() - started, 1),
                                   "server_cpu_s": round(server_cpu.between(started, time.monotonic()), 1),
                                   "recommended_server_cpu_s": round(server_cpu.between(*recommended), 1),
                                   "client_cpu_s": round(time.process_time() - client_cpu, 1),
                                   "recommended_seconds": round(stats.seconds["recommended"], 1),
                                   "recommendations": stats.recommendations, "load_before": round(load, 1)})
    summary = {kind: {"median_seconds": statistics.median(r["seconds"] for r in found),
                      "median_server_cpu_s": statistics.median(r["server_cpu_s"] for r in found),
                      "median_recommended_server_cpu_s": statistics.median(r["recommended_server_cpu_s"] for r in found),
                      "median_recommended_seconds": statistics.median(r["recommended_seconds"] for r in found),
                      "runs": found} for kind, found in runs.items()}
    result = {"benchmark": "evidence_store", "users": users,
              "interactions": int(len(columns.edges[("User", "INTERACTED", "Item")][0])), "k": args.k,
              "evidence": EVIDENCE, **summary}
    print_and_record(result, args.out, f'{args.label or "run"}: {result["interactions"]} interactions, {users} users')


if __name__ == "__main__":
    main()
