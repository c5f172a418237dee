"""`python -m bench [name ...]`: run the benchmarks (all by default) and print one table."""

from __future__ import annotations

import importlib
import sys

from bench.report import Row, render

ALL = [
    "cold_start",
    "request_cost",
    "overhead",
    "metering",
    "saga_latency",
    "noisy_neighbour",
    "console",
    "restart",
    "faults",
]


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
        return 2
    rows: list[Row] = []
    for name in names or ALL:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(f"bench.{name}").run()
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
