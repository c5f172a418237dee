"""N tenants through the local platform and back out:
POST /tenants -> tenant table -> stream -> provisioner -> STS + CloudFormation -> TenantProvisioned
-> tenant service -> ACTIVE; then DELETE /tenants/{id} -> ... -> OFFBOARDED, and no stack left."""

from __future__ import annotations

import itertools
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

TENANT_TABLE = "saas-tenants"
# A mix like a real sign-up stream: every region group, one premium tenant in four.
REGION_GROUPS = ("us", "eu", "global")
PREMIUM_EVERY = 4
ATTEMPTS = 3


@dataclass(frozen=True)
class Run:
    tenants: int
    onboarding_s: float
    offboarding_s: float
    active: int
    failed: int
    stacks_after_onboarding: int
    stacks_left: int

    @property
    def onboarded_per_s(self) -> float:
        return self.tenants / self.onboarding_s

    @property
    def offboarded_per_s(self) -> float:
        return self.tenants / self.offboarding_s


def _statuses(platform: Any, ids: set[str]) -> Counter[str]:
    """Status of each of `ids`, read from the tenant table (one scan, not N API calls)."""
    table = platform.client("dynamodb")
    counts: Counter[str] = Counter()
    kwargs: dict[str, Any] = {
        "TableName": TENANT_TABLE,
        "ProjectionExpression": "tenant_id, #s",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    while True:
        page = table.scan(**kwargs)
        for item in page["Items"]:
            if item["tenant_id"]["S"] in ids:
                counts[item["status"]["S"]] += 1
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _live_stacks(platform: Any, names: set[str], regions: set[str]) -> int:
    live = 0
    for region in regions:
        paginator = platform.client("cloudformation", region).get_paginator("list_stacks")
        for page in paginator.paginate():
            live += sum(
                1
                for s in page["StackSummaries"]
                if s["StackName"] in names and s["StackStatus"] != "DELETE_COMPLETE"
            )
    return live


def _wait(
    platform: Any, ids: set[str], done: Callable[[Counter[str]], bool], timeout: float
) -> Counter[str]:
    """Poll until done (or the deadline), printing progress to stderr every 30 s."""
    started = time.monotonic()
    last_report = started
    while True:
        counts = _statuses(platform, ids)
        now = time.monotonic()
        if done(counts) or now - started > timeout:
            return counts
        if now - last_report >= 30:
            progress = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            print(f"  {now - started:6.0f} s: {progress}", file=sys.stderr, flush=True)
            last_report = now
        time.sleep(1.0)


def onboard_and_offboard(platform: Any, tenants: int, workers: int = 4) -> Run:
    token = platform.login(*platform.system_admin)
    shapes = itertools.cycle(
        (group, "premium" if i % PREMIUM_EVERY == 0 else "basic")
        for i, group in enumerate(REGION_GROUPS * PREMIUM_EVERY)
    )
    plan = [next(shapes) for _ in range(tenants)]

    def register(shape: tuple[str, str]) -> str:
        group, tier = shape
        body = {
            "name": "Bench",
            "tier": tier,
            "region_group": group,
            "admin_email": f"admin-{uuid.uuid4().hex[:12]}@bench.example",
            "config": {"plan": tier},
        }
        # A 5xx (a cold start past the API's timeout on a loaded machine) is retried with the
        # same Idempotency-Key, as a client would: the tenant is registered once.
        key = str(uuid.uuid4())
        for _ in range(ATTEMPTS):
            response = platform.api(
                "POST", "/tenants", token=token, json=body, headers={"Idempotency-Key": key}
            )
            if response.status < 500:
                break
        if response.status != 202:
            raise RuntimeError(f"POST /tenants answered {response.status}: {response.text}")
        return str(response.json()["id"])

    def offboard(tenant_id: str) -> None:
        for _ in range(ATTEMPTS):  # DELETE is idempotent: a retry is answered 202 as well
            response = platform.api("DELETE", f"/tenants/{tenant_id}", token=token)
            if response.status == 202:
                return
            if response.status < 500:
                break
        raise RuntimeError(f"DELETE answered {response.status}: {response.text}")

    timeout = 120 + 3.0 * tenants  # a bound, so a stuck pipeline ends the run with its counts
    started = time.monotonic()
    first = register(plan[0])  # warms the functions before the concurrent requests
    with ThreadPoolExecutor(workers) as pool:
        ids = {first, *pool.map(register, plan[1:])}
    settled = _wait(
        platform,
        ids,
        lambda c: c["ACTIVE"] + c["PROVISIONING_FAILED"] == tenants,
        timeout,
    )
    onboarding_s = time.monotonic() - started
    names = {f"tenant-{i}" for i in ids}
    regions = {platform.platform.config.region_map[g] for g in REGION_GROUPS}
    stacks_after_onboarding = _live_stacks(platform, names, regions)

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(offboard, ids))
    _wait(platform, ids, lambda c: c["OFFBOARDED"] == tenants, timeout)
    offboarding_s = time.monotonic() - started

    return Run(
        tenants=tenants,
        onboarding_s=onboarding_s,
        offboarding_s=offboarding_s,
        active=settled["ACTIVE"],
        failed=settled["PROVISIONING_FAILED"],
        stacks_after_onboarding=stacks_after_onboarding,
        stacks_left=_live_stacks(platform, names, regions),
    )
