"""Loader benchmark: the synthetic sample into an empty server, then again (re-load).

Prints one JSON object: per phase the interactions/s of ``write_graph`` (all node and
relationship types included), the seconds per type, and the loader's peak RSS; plus the rows/s
of each reader (CSV, Parquet, DataFrame, MovieLens 100k / 1M / latest) on the same
interactions. Each phase runs in its own process so its peak RSS is its own.

    export KGREC_HOME=... KGREC_BOLT_PORT=...   # the server kgrec neo4j start runs
    .venv/bin/python bench/bench_load.py --interactions 1000000 --out bench/results/load.json

The first phase empties the database (data, constraints, indexes) first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from recording import print_and_record

REPO = Path(__file__).resolve().parents[1]
PHASES = ("first", "reload", "readers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000, help="sample size (default 1,000,000)")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="relationship batches in flight")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phase", choices=PHASES, help="run one phase in this process (internal)")
    parser.add_argument("--out", type=Path, help="also record the run in this JSON file, keyed by size")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASE_RUNNERS[args.phase](args)))
        return
    result = {"interactions_requested": args.interactions, "batch_size": args.batch_size,
              "workers": args.workers, "seed": args.seed,
              "machine": {"cpus": _cpus()}}
    for phase in PHASES:
        command = [sys.executable, __file__, "--phase", phase, "--interactions", str(args.interactions),
                   "--batch-size", str(args.batch_size), "--workers", str(args.workers), "--seed", str(args.seed)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
        result[phase] = json.loads(done.stdout.strip().splitlines()[-1])
    print_and_record(result, args.out, args.interactions)


def _sample(args: argparse.Namespace):
    from kgrec.loaders.synthetic import generate_sample

    started = time.perf_counter()
    graph = generate_sample(n_interactions=args.interactions, seed=args.seed)
    return graph, time.perf_counter() - started


def _write_phase(args: argparse.Namespace, *, empty_first: bool) -> dict:
    from kgrec.config import open_driver
    from kgrec.loaders import write_graph
    from kgrec.settings import read_settings

    graph, generate_s = _sample(args)
    settings = read_settings().neo4j
    with open_driver(settings) as driver:
        if empty_first:
            sys.path.insert(0, str(REPO / "tests"))
            from conftest import wipe_database  # the test suite's way to empty a database

            wipe_database(driver, settings.database)
        client_cpu, server_cpu = _client_cpu_s(), _server_cpu_s()
        summary = write_graph(driver, graph, database=settings.database, batch_size=args.batch_size,
                              workers=args.workers, progress=False)
        client_cpu, server_cpu = _client_cpu_s() - client_cpu, _server_cpu_s() - server_cpu
    interactions = summary.get("INTERACTED")
    return {
        "interactions": interactions.rows,
        "generate_s": round(generate_s, 2),
        "load_s": round(summary.seconds, 2),
        "interactions_per_s": round(interactions.rows / summary.seconds),
        "interacted_step_per_s": round(interactions.rows_per_s),
        "peak_rss_mb": _peak_rss_mb(),
        "server_rss_mb": _server_status("VmRSS:"),
        # where the time went: CPU seconds of this loader and of the server during the load;
        # with 2 cores shared with other work, their sum against 2 x load_s shows the headroom
        "loader_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "load_average_1m": os.getloadavg()[0],
        "summary": summary.as_dict(),
    }


def _readers_phase(args: argparse.Namespace) -> dict:
    """Rows/s of each reader on the sample's interactions (plus the tables each format needs)."""
    from kgrec.loaders import read_csv_graph, read_dataframes, read_movielens, read_parquet_graph

    graph, _ = _sample(args)
    inter = graph.interactions
    rows = len(inter)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inter.to_csv(folder / "interactions.csv", index=False)
        inter.to_parquet(folder / "interactions.parquet", index=False)
        readers = {
            "csv": lambda: read_csv_graph(interactions=folder / "interactions.csv"),
            "parquet": lambda: read_parquet_graph(interactions=folder / "interactions.parquet"),
            "dataframe": lambda: read_dataframes(interactions=inter),
        }
        for name, make in (("movielens_100k", _as_100k), ("movielens_1m", _as_1m), ("movielens_latest", _as_latest)):
            make(graph, folder / name)
            readers[name] = lambda path=folder / name: read_movielens(path)
        for name, read in readers.items():
            started = time.perf_counter()
            read()
            timings[name] = time.perf_counter() - started
    return {"rows": rows, "rows_per_s": {k: round(rows / s) for k, s in timings.items()},
            "seconds": {k: round(s, 2) for k, s in timings.items()}, "peak_rss_mb": _peak_rss_mb()}


def _ratings(graph) -> pd.DataFrame:
    inter = graph.interactions
    return pd.DataFrame({"u": inter["user_id"], "i": inter["item_id"], "r": inter["rating"].round().astype(int),
                         "t": inter["ts"]})


def _as_100k(graph, folder: Path) -> None:
    folder.mkdir()
    genres = ["unknown"] + graph.categories["id"].tolist()
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(genres)))
    items = pd.DataFrame({"id": graph.items["id"], "title": graph.items["title"], "date": "", "video": "",
                          "url": ""} | {g: 0 for g in genres})
    items.to_csv(folder / "u.item", sep="|", header=False, index=False, encoding="latin-1", errors="replace")
    pd.DataFrame({"id": graph.users["id"], "age": 30, "gender": "F", "occ": "other", "zip": "00000"}).to_csv(
        folder / "u.user", sep="|", header=False, index=False)
    _ratings(graph).to_csv(folder / "u.data", sep="\t", header=False, index=False)


def _as_1m(graph, folder: Path) -> None:
    folder.mkdir()

    def dat(frame: pd.DataFrame, name: str) -> None:
        lines = frame.astype(str).agg("::".join, axis=1)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="latin-1", errors="replace")

    dat(pd.DataFrame({"id": graph.items["id"], "title": graph.items["title"], "genres": "Drama"}), "movies.dat")
    dat(pd.DataFrame({"id": graph.users["id"], "g": "F", "a": 1, "o": 10, "z": "00000"}), "users.dat")
    dat(_ratings(graph), "ratings.dat")


def _as_latest(graph, folder: Path) -> None:
    folder.mkdir()
    pd.DataFrame({"movieId": graph.items["id"], "title": graph.items["title"], "genres": "Drama|Comedy"}).to_csv(
        folder / "movies.csv", index=False)
    _ratings(graph).set_axis(["userId", "movieId", "rating", "timestamp"], axis=1).to_csv(
        folder / "ratings.csv", index=False)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_proc() -> Path | None:
    """``/proc/<pid>`` of the local server kgrec runs (None for a remote server)."""
    from kgrec.settings import read_settings

    try:
        return Path(f"/proc/{read_settings().layout.pid_file.read_text().strip()}")
    except OSError:
        return None


def _server_status(key: str) -> float | None:
    """A memory figure (MB) of the local server from /proc/<pid>/status."""
    proc = _server_proc()
    if proc is None:
        return None
    line = next(line for line in (proc / "status").read_text().splitlines() if line.startswith(key))
    return round(int(line.split()[1]) / 1024, 1)


def _server_cpu_s() -> float:
    proc = _server_proc()
    if proc is None:
        return float("nan")
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cpus() -> int:
    return os.cpu_count() or 0


PHASE_RUNNERS = {
    "first": lambda args: _write_phase(args, empty_first=True),
    "reload": lambda args: _write_phase(args, empty_first=False),
    "readers": _readers_phase,
}

if __name__ == "__main__":
    main()
