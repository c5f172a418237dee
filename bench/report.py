"""One table for every benchmark: medians, the floor they are compared with, and the ratio."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    benchmark: str
    subject: str
    median_ms: float
    baseline: str = ""
    baseline_ms: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_ms:
            return self.median_ms / self.baseline_ms
        return None


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def p95_ms(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000


def render(rows: list[Row]) -> str:
    header = ("benchmark", "subject", "median ms", "baseline", "base ms", "ratio", "goal", "met")
    lines = [header]
    for row in rows:
        ratio = row.ratio
        lines.append(
            (
                row.benchmark,
                row.subject,
                f"{row.median_ms:.2f}",
                row.baseline,
                "" if row.baseline_ms is None else f"{row.baseline_ms:.2f}",
                "" if ratio is None else f"{ratio:.2f}x",
                row.goal,
                {True: "yes", False: "NO", None: ""}[row.met],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.benchmark} / {r.subject}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)
