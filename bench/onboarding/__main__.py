"""`python -m bench.onboarding [N ...]`: onboard and offboard N tenants through the local platform
for each N (default 100 1000), print tenants per second and how the time grows."""

from __future__ import annotations

import itertools
import sys

from bench.onboarding import DEFAULT_SIZES, each_run


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or list(DEFAULT_SIZES)
    runs = []
    header = (
        f"{'tenants':>8} {'onboard s':>10} {'tenants/s':>10} {'offboard s':>11} "
        f"{'tenants/s':>10} {'ACTIVE':>7} {'FAILED':>7} {'stacks':>7} {'left':>5}"
    )
    print(header, flush=True)
    for r in each_run(sizes):  # each size printed as soon as it is measured
        runs.append(r)
        print(
            f"{r.tenants:>8} {r.onboarding_s:>10.1f} {r.onboarded_per_s:>10.2f} "
            f"{r.offboarding_s:>11.1f} {r.offboarded_per_s:>10.2f} {r.active:>7} {r.failed:>7} "
            f"{r.stacks_after_onboarding:>7} {r.stacks_left:>5}",
            flush=True,
        )
    for small, large in itertools.pairwise(runs):
        growth = large.onboarding_s / small.onboarding_s
        print(
            f"{small.tenants} -> {large.tenants} tenants ({large.tenants / small.tenants:.0f}x): "
            f"onboarding time x{growth:.1f}, per tenant "
            f"{1000 * small.onboarding_s / small.tenants:.0f} ms -> "
            f"{1000 * large.onboarding_s / large.tenants:.0f} ms"
        )
    healthy = all(r.active == r.tenants and r.stacks_left == 0 for r in runs)
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
