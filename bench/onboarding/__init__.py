"""Onboarding benchmark: tenants per second through the whole local platform, at two sizes, and
how the time grows between them. `python -m bench.onboarding [N ...]` (default 100 1000)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bench.onboarding.flow import Run
from bench.report import Row

DEFAULT_SIZES = (100, 1000)


def each_run(sizes: Sequence[int] = DEFAULT_SIZES) -> Iterator[Run]:
    """One platform, each size in turn: every tenant onboarded, then every tenant offboarded.
    The functions' log lines go to .local/bench-functions.log, not between the figures."""
    from bench.onboarding.flow import onboard_and_offboard
    from bench.templates import fresh_function_log
    from saas_local.testing import start_platform

    with start_platform(function_log=fresh_function_log()) as platform:
        for size in sizes:
            yield onboard_and_offboard(platform, size)


def measure(sizes: Sequence[int] = DEFAULT_SIZES) -> list[Run]:
    return list(each_run(sizes))


def rows(runs: Sequence[Run]) -> list[Row]:
    out = []
    for run in runs:
        ok = run.active == run.tenants and run.stacks_left == 0
        out.append(
            Row(
                benchmark="onboarding",
                subject=f"{run.tenants} tenants, API to ACTIVE",
                median_ms=1000 * run.onboarding_s / run.tenants,
                goal="all ACTIVE, no stack left after offboarding",
                met=ok,
                note=(f"{run.onboarded_per_s:.1f} tenants/s on, {run.offboarded_per_s:.1f}/s off"),
            )
        )
    return out


def run() -> list[Row]:
    return rows(measure())
