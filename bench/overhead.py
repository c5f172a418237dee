"""The platform's own cost per request: the real handlers on in-memory adapters (no I/O)."""

from __future__ import annotations

from bench.report import Row
from bench.request_cost import run_overhead


def run() -> list[Row]:
    return run_overhead()
