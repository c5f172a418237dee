"""Restart benchmark: how long the local platform takes to start again on its kept data with N
tenants (default 1,000), against a fresh start that deploys every stack, and how big the kept
data is. `python -m bench.restart [N]`; in `make bench`'s table as `restart`.

The tenants are onboarded as the onboarding benchmark does it: POST /tenants through the gateway,
the provisioner making each one's stack through STS and CloudFormation, until every tenant is
ACTIVE (every region group, one premium tenant in four). The platform is stopped (the data saved
at stop), started again on the same folder and timed until it serves; every tenant is then
checked ACTIVE with its stack.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Row

DEFAULT_TENANTS = 1000
WORKERS = 4
ATTEMPTS = 3


@dataclass(frozen=True)
class Restart:
    tenants: int
    onboarding_s: float
    fresh_start_s: float  # the first start: every stack deployed
    stop_s: float  # the stop, the data saved last
    restart_s: float  # the start on the kept data, until it serves
    aws_restore_s: float  # of which moto's process loading the snapshot
    running_save_s: float  # a snapshot while it runs (periodic or save_state())
    running_hold_s: float  # of which AWS requests were held (the pickling)
    stop_save_s: float  # the save at stop
    aws_bytes: int
    platform_bytes: int
    active_after: int
    stacks_after: int


def _onboard(platform: Any, tenants: int) -> set[str]:
    from bench.onboarding.flow import PREMIUM_EVERY, REGION_GROUPS, _wait

    token = platform.login(*platform.system_admin)
    shapes = itertools.cycle(
        (group, "premium" if i % PREMIUM_EVERY == 0 else "basic")
        for i, group in enumerate(REGION_GROUPS * PREMIUM_EVERY)
    )

    def register(shape: tuple[str, str]) -> str:
        group, tier = shape
        body = {
            "name": "Bench",
            "tier": tier,
            "region_group": group,
            "admin_email": f"admin-{uuid.uuid4().hex[:12]}@bench.example",
        }
        key = str(uuid.uuid4())  # a 5xx is retried with the same key: registered once
        for _ in range(ATTEMPTS):
            response = platform.api(
                "POST", "/tenants", token=token, json=body, headers={"Idempotency-Key": key}
            )
            if response.status < 500:
                break
        if response.status != 202:
            raise RuntimeError(f"POST /tenants answered {response.status}: {response.text}")
        return str(response.json()["id"])

    plan = [next(shapes) for _ in range(tenants)]
    first = register(plan[0])  # warms the functions before the concurrent requests
    with ThreadPoolExecutor(WORKERS) as pool:
        ids = {first, *pool.map(register, plan[1:])}
    counts = _wait(platform, ids, lambda c: c["ACTIVE"] == tenants, 120 + 3.0 * tenants)
    if counts["ACTIVE"] != tenants:
        raise RuntimeError(f"onboarding did not finish: {dict(counts)}")
    return ids


def measure(tenants: int = DEFAULT_TENANTS) -> Restart:
    from bench.onboarding.flow import REGION_GROUPS, _live_stacks, _statuses
    from bench.templates import fresh_function_log
    from saas_local.testing import start_platform

    log = fresh_function_log()
    with tempfile.TemporaryDirectory(prefix="saas-restart-") as folder:
        state = Path(folder)
        options: dict[str, Any] = {"function_log": log, "state_dir": state}
        options["snapshot_seconds"] = 0  # saved at stop only: nothing else measured in between
        started = time.monotonic()
        with start_platform(**options) as platform:
            fresh_start_s = time.monotonic() - started
            print(f"  fresh start {fresh_start_s:.1f} s", file=sys.stderr, flush=True)
            began = time.monotonic()
            ids = _onboard(platform, tenants)
            onboarding_s = time.monotonic() - began
            print(f"  {tenants} tenants ACTIVE in {onboarding_s:.0f} s", file=sys.stderr)
            running_save = platform.platform.save_state()
            stopping = time.monotonic()
        stop_s = time.monotonic() - stopping
        stop_save = platform.platform.last_save
        aws_bytes = (state / "aws.pickle").stat().st_size
        platform_bytes = (state / "platform.pickle").stat().st_size
        started = time.monotonic()
        with start_platform(**options) as platform:
            restart_s = time.monotonic() - started
            aws_restore_s = platform.info["state"].get("aws_restore_seconds", 0.0)
            if not platform.info["state"]["restored"]:
                raise RuntimeError("the second start did not restore the kept data")
            active = _statuses(platform, ids)["ACTIVE"]
            regions = {platform.platform.config.region_map[g] for g in REGION_GROUPS}
            stacks = _live_stacks(platform, {f"tenant-{i}" for i in ids}, regions)
    return Restart(
        tenants=tenants,
        onboarding_s=onboarding_s,
        fresh_start_s=fresh_start_s,
        stop_s=stop_s,
        restart_s=restart_s,
        aws_restore_s=aws_restore_s,
        running_save_s=running_save["seconds"],
        running_hold_s=running_save["aws_held_seconds"],
        stop_save_s=stop_save["seconds"],
        aws_bytes=aws_bytes,
        platform_bytes=platform_bytes,
        active_after=active,
        stacks_after=stacks,
    )


def rows(result: Restart) -> list[Row]:
    return [
        Row(
            benchmark="restart",
            subject=f"start on kept data, {result.tenants} tenants",
            median_ms=1000 * result.restart_s,
            baseline="fresh start (every stack deployed, no tenant)",
            baseline_ms=1000 * result.fresh_start_s,
            goal="every tenant ACTIVE with its stack after the restart",
            met=result.active_after == result.tenants == result.stacks_after,
            note=(
                f"kept data {result.aws_bytes / 1e6:.1f} MB AWS + "
                f"{result.platform_bytes / 1e6:.1f} MB platform; moto loads it in "
                f"{result.aws_restore_s:.1f} s; a snapshot while running "
                f"{result.running_save_s:.2f} s (AWS requests held {result.running_hold_s:.2f} s); "
                f"stop {result.stop_s:.1f} s, of which the save {result.stop_save_s:.2f} s"
            ),
        )
    ]


def run() -> list[Row]:
    return rows(measure())


def main(argv: list[str]) -> int:
    from bench.report import render

    result = measure(int(argv[0]) if argv else DEFAULT_TENANTS)
    print(render(rows(result)))
    print(
        f"{result.tenants} tenants (onboarded in {result.onboarding_s:.0f} s): fresh start "
        f"{result.fresh_start_s:.1f} s, stop {result.stop_s:.1f} s, start on kept data "
        f"{result.restart_s:.1f} s (moto loading {result.aws_restore_s:.1f} s); "
        f"kept {result.aws_bytes:,} bytes (AWS) + "
        f"{result.platform_bytes:,} bytes (platform); after it {result.active_after} ACTIVE, "
        f"{result.stacks_after} stacks"
    )
    return 0 if rows(result)[0].met else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
