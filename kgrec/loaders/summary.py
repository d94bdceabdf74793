"""What a load did: per node label and relationship type, counted by the server."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class TypeSummary:
    """One node label or relationship type.

    ``created`` and ``updated`` come from the server (result counters and the load queries'
    own counts); ``unchanged`` rows were already in the graph with the same values. A bulk
    import creates every row and times the whole import, not each type: ``seconds`` is 0.
    """

    kind: str
    name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    seconds: float = 0.0

    @property
    def unchanged(self) -> int:
        return self.rows - self.created - self.updated

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LoadSummary:
    """The whole load: one :class:`TypeSummary` per type, rejected rows per input table, and
    for a bulk import the seconds of each of its steps (``phases``)."""

    types: list[TypeSummary] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def get(self, name: str) -> TypeSummary:
        """The summary of label or relationship type ``name`` (KeyError if nothing was loaded)."""
        for summary in self.types:
            if summary.name == name:
                return summary
        raise KeyError(f"nothing of type {name!r} was loaded; loaded: {[t.name for t in self.types]}")

    def as_dict(self) -> dict:
        """JSON-ready form (the CLI prints it)."""
        return {
            "seconds": round(self.seconds, 3),
            "rejected": self.rejected,
            "phases": {name: round(seconds, 3) for name, seconds in self.phases.items()},
            "types": [asdict(t) | {"seconds": round(t.seconds, 3), "unchanged": t.unchanged,
                                   "rows_per_s": round(t.rows_per_s, 1)} for t in self.types],
        }

    def __str__(self) -> str:
        header = f"{'type':<22}{'rows':>10}{'created':>10}{'updated':>10}{'unchanged':>10}{'rows/s':>10}"
        lines = [header] + [
            f"{t.kind[0]}:{t.name:<20}{t.rows:>10}{t.created:>10}{t.updated:>10}{t.unchanged:>10}"
            f"{f'{t.rows_per_s:.0f}' if t.seconds else '-':>10}" for t in self.types]
        if self.rejected:
            lines.append("rejected rows: " + ", ".join(f"{k} {v}" for k, v in self.rejected.items()))
        if self.phases:
            lines.append("bulk import: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items()))
        lines.append(f"total {self.seconds:.1f} s")
        return "\n".join(lines)
