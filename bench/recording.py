"""Printing a benchmark's JSON and keeping it in a results file, keyed by graph size."""

from __future__ import annotations

import json
from pathlib import Path


def print_and_record(result: dict, out: Path | None, interactions: int | str) -> None:
    """Print ``result``; with ``out``, also store it there under ``interactions`` (other sizes kept)."""
    print(json.dumps(result, indent=2))
    if out:
        runs = json.loads(out.read_text()) if out.exists() else {}
        runs[str(interactions)] = result
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(runs, indent=2) + "\n")
