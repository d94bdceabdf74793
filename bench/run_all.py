"""Run every kgrec benchmark at one size and write one report (``make bench SIZE=...``).

Order matters, because each step uses the graph the previous one left in Neo4j:
load (empties the database, loads, re-loads) -> bulk (empties it, bulk imports, loads again
transactionally: the same graph) -> engine (pull, train, write back)
-> explanation query -> HTTP API. Each benchmark is its own script in ``bench/`` printing JSON.
This one runs them against a local server of their own — ``$KGREC_HOME/bench`` on your ports
+ 20000, sharing the downloaded jars, 2 GB heap, never your own database — or against
``NEO4J_URI`` when it is set (that database is emptied), adds the machine and software
versions, writes
``bench/results/<size>.json`` and prints a Markdown summary (``bench/results_report.py`` renders
the JSON into ``bench/RESULTS.md``).

Sizes: ``smoke`` (20k interactions, about a minute), ``medium`` (200k), ``full`` (1,000,000),
or a number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SIZES = {"smoke": 20_000, "medium": 200_000, "full": 1_000_000}


def _steps(n: int) -> list[tuple[str, list[str]]]:
    """(name, script arguments) in run order; a step whose script is absent is skipped."""
    quick = n <= 50_000
    return [
        ("load", ["bench_load.py", "--interactions", str(n)]),
        ("bulk", ["bench_bulk.py", "--interactions", str(n)]),
        ("engine", ["bench_engine.py", "--interactions", str(n)]),
        ("explain", ["bench_explain.py", "--interactions", str(n), "--queries", "50" if quick else "200"]),
        ("api", ["bench_api.py", "--interactions", str(n), "--stand-in-model",
                 "--requests", "200" if quick else "1000"]),
    ]


def _versions() -> dict[str, str]:
    from importlib import metadata

    from kgrec.neo4j_server.layout import NEO4J_VERSION

    found = {"python": platform.python_version(), "neo4j_server": NEO4J_VERSION}
    for package in ("torch", "torch_geometric", "neo4j", "fastapi", "pandas"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


def _machine() -> dict[str, object]:
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")), 0)
    return {"cpus": os.cpu_count(), "memory_gib": round(memory_kb / 2**20, 1), "platform": platform.platform(),
            "load_average_at_start": os.getloadavg()[0]}


def _headline(name: str, result: dict) -> str:
    """The most telling figures of a step's JSON, on one line."""
    if name == "load":
        return "; ".join(f"{phase}: {result[phase]['interactions_per_s']:,} interactions/s, "
                         f"peak RSS {result[phase]['peak_rss_mb']} MB"
                         for phase in ("first", "reload") if phase in result)
    if name == "bulk" and "bulk" in result:
        return (f"bulk import: {result['bulk']['median_interactions_per_s']:,} interactions/s, "
                f"{result['bulk']['median_interactions_per_s_without_restart']:,}/s without the server's "
                f"stop and start; store {result['store']['bulk']['store_bytes_per_interaction']} bytes/interaction")
    if name == "api":
        return "; ".join(f"{s['query']}: p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, {s['requests_per_s']} req/s"
                         for s in result.get("scenarios", []))
    numbers = {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return ", ".join(f"{k}={v}" for k, v in numbers.items())


def _use_bench_server() -> None:
    """Start the benchmarks' own server and point this process and its children at it."""
    from kgrec.neo4j_server import lifecycle
    from kgrec.settings import read_settings

    layout = read_settings().layout.sibling("bench", 20_000)
    os.environ.update(KGREC_HOME=str(layout.home), KGREC_BOLT_PORT=str(layout.bolt_port),
                      KGREC_HTTP_PORT=str(layout.http_port))
    os.environ.setdefault("KGREC_NEO4J_HEAP", "2g")
    lifecycle.start(layout, settings=read_settings())
    print(f"benchmark server: {layout.bolt_uri} (stop it with KGREC_HOME={layout.home} "
          f"KGREC_BOLT_PORT={layout.bolt_port} KGREC_HTTP_PORT={layout.http_port} kgrec neo4j stop)",
          file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="smoke", help="smoke | medium | full | a number of interactions")
    args = parser.parse_args()
    n = SIZES.get(args.size) or int(args.size)

    if not os.environ.get("NEO4J_URI"):
        _use_bench_server()
    report: dict = {"size": args.size, "interactions": n, "started": datetime.now(timezone.utc).isoformat(),
                    "machine": _machine(), "versions": _versions(), "steps": {}}
    for name, command in _steps(n):
        script = BENCH / command[0]
        if not script.exists():
            report["steps"][name] = {"skipped": f"{command[0]} not present"}
            continue
        print(f"==> {name}: {' '.join(command)}", file=sys.stderr, flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(script), *command[1:]], capture_output=True, text=True)
        seconds = round(time.monotonic() - started, 1)
        if done.returncode != 0:
            report["steps"][name] = {"failed": done.returncode, "seconds": seconds,
                                     "stderr_tail": done.stderr.strip().splitlines()[-10:]}
            print(f"    failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        last_json = done.stdout[done.stdout.find("{"):]
        report["steps"][name] = {"seconds": seconds, "result": json.loads(last_json)}
        print(f"    done in {seconds} s", file=sys.stderr, flush=True)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.size}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# kgrec benchmarks: {args.size} ({n:,} interactions)", "",
             f"Run {report['started']} on {report['machine']['cpus']} cores, "
             f"{report['machine']['memory_gib']} GiB, load average {report['machine']['load_average_at_start']:.1f} "
             f"at start; " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".", "",
             "| step | seconds | headline figures |", "|---|---|---|"]
    for name, step in report["steps"].items():
        if "result" in step:
            lines.append(f"| {name} | {step['seconds']} | {_headline(name, step['result'])} |")
        else:
            lines.append(f"| {name} | {step.get('seconds', '-')} | {step.get('skipped') or 'FAILED: ' + ' '.join(step['stderr_tail'][-1:])} |")
    print("\n".join(lines))
    return 1 if any("failed" in s for s in report["steps"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
