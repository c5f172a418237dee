"""Saga latency through the local platform: POST /orders until GET /orders/{id} says CONFIRMED.

The whole path is real: gateway and authorizer, the order handler's transaction with its outbox
item, the outbox stream and relay, the bus, the rule and queue, the product consumer's
reservation transaction, its relay, the bus again, and the order consumer.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from bench.report import Row, median_ms, p95_ms
from bench.templates import ROOT, fresh_function_log

ORDERS = int(os.environ.get("BENCH_ORDERS", "100"))
PASSWORD = "Bench-Passw0rd-1"
TIMEOUT = 120.0


def _onboard(platform: Any) -> tuple[str, str]:
    """A new ACTIVE tenant through the API; its admin's and user's ID tokens."""
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    answer = platform.api(
        "POST",
        "/tenants",
        token=root,
        json={
            "name": f"Bench {suffix}",
            "tier": "basic",
            "region_group": "us",
            "admin_email": f"bench-{suffix}@shop.test",
        },
    )
    if answer.status != 202:
        raise RuntimeError(f"onboarding refused: {answer.status} {answer.text}")
    tenant_id = answer.json()["id"]
    platform.wait_until(
        lambda: (
            platform.api("GET", f"/tenants/{tenant_id}", token=root).json()["status"] == "ACTIVE"
        ),
        timeout=TIMEOUT,
    )
    tokens = []
    for group in ("TenantAdmin", "TenantUser"):
        username = f"bench-{group.lower()}-{suffix}"
        platform.create_user(username, PASSWORD, group, tenant_id)
        tokens.append(platform.login(username, PASSWORD))
    return tokens[0], tokens[1]


def _order_confirmed(platform: Any, token: str, product_id: str) -> float:
    start = time.perf_counter()
    placed = platform.api(
        "POST", "/orders", token=token, json={"lines": [{"product_id": product_id, "quantity": 1}]}
    )
    if placed.status != 202:
        raise RuntimeError(f"order refused: {placed.status} {placed.text}")
    order_id = placed.json()["id"]
    while True:
        status = platform.api("GET", f"/orders/{order_id}", token=token).json()["status"]
        if status == "CONFIRMED":
            return time.perf_counter() - start
        if status != "PENDING" or time.perf_counter() - start > TIMEOUT:
            raise RuntimeError(f"order {order_id} ended {status}")
        time.sleep(0.005)


def run() -> list[Row]:
    from saas_local.testing import start_platform

    log = fresh_function_log()  # the functions' log lines, out of the table
    with start_platform(ROOT, region_map={"us": "us-east-1"}, function_log=log) as platform:
        admin, user = _onboard(platform)
        created = platform.api(
            "POST",
            "/products",
            token=admin,
            json={"name": "Mug", "sku": "BENCH-MUG", "price": "12.50", "stock": ORDERS * 10},
        )
        product_id = created.json()["id"]
        # The order service learns of the product from ProductCreated; wait for that once.
        platform.wait_until(lambda: _try_first_order(platform, user, product_id), timeout=TIMEOUT)
        samples = [_order_confirmed(platform, user, product_id) for _ in range(ORDERS)]
    return [
        Row(
            "saga (local platform)",
            f"POST /orders -> CONFIRMED, median of {ORDERS}",
            median_ms(samples),
        ),
        Row(
            "saga (local platform)", f"POST /orders -> CONFIRMED, p95 of {ORDERS}", p95_ms(samples)
        ),
    ]


def _try_first_order(platform: Any, token: str, product_id: str) -> bool:
    try:
        _order_confirmed(platform, token, product_id)
    except RuntimeError as refused:
        if "422" in str(refused):
            return False
        raise
    return True
