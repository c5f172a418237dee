"""Metering end to end through the local platform: every function's usage records reach the
metering service through the templates' account subscription filter policy (delivered locally
by saas_local/log_subscriptions.py), are added up per tenant per day, and read back through the
usage API. Two tenants make a known mix of calls: each one's requests are counted exactly and
under that tenant alone, capacity units are what DynamoDB (moto) reported, and a delivery made
again counts nothing twice."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import active_tenant

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Metering-Passw0rd-1"
FLOW_TIMEOUT = 120.0  # seconds a flow may take on a loaded 2-core machine (a bound, not a timing)
SETTLE_SECONDS = 3.0  # how long the figures must stay put to be the final ones
MUG = {"name": "Mug", "sku": "MUG-1", "price": "12.50", "stock": 5}

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Shop:
    tenant_id: str
    admin: str  # TenantAdmin's ID token
    user: str  # TenantUser's ID token


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    from saas_local.testing import start_platform

    with start_platform(ROOT, region_map={"us": "us-east-1"}, console=False) as running:
        yield running


def _shop(platform: Any, root: str) -> Shop:
    tenant_id = active_tenant(platform, root, timeout=FLOW_TIMEOUT)
    suffix = uuid.uuid4().hex[:8]
    tokens = {}
    for group in ("TenantAdmin", "TenantUser"):
        username = f"{group.lower()}-{suffix}"
        platform.create_user(username, PASSWORD, group, tenant_id)
        tokens[group] = platform.login(username, PASSWORD)
    return Shop(tenant_id, tokens["TenantAdmin"], tokens["TenantUser"])


def _today(platform: Any, root: str, tenant_id: str) -> dict[str, Any]:
    today = datetime.now(UTC).date().isoformat()
    answer = platform.api("GET", f"/tenants/{tenant_id}/usage?from={today}&to={today}", token=root)
    assert answer.status == 200, answer.text
    return dict(answer.json()["total"])


def _settled(platform: Any, root: str, tenant_id: str) -> dict[str, Any]:
    """The tenant's usage today once it no longer changes (deliveries are asynchronous)."""
    last: dict[str, Any] = {}
    stable_since = time.monotonic()
    deadline = time.monotonic() + FLOW_TIMEOUT
    while time.monotonic() < deadline:
        now = _today(platform, root, tenant_id)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= SETTLE_SECONDS:
            return last
        time.sleep(0.3)
    raise AssertionError(f"the usage of {tenant_id} never settled: {last}")


def _delta(after: dict[str, Any], before: dict[str, Any], name: str) -> float:
    return round(float(after[name]) - float(before[name]), 6)


def test_two_tenants_usage_is_counted_exactly_under_each_and_once(platform: Any) -> None:
    root = platform.login(*platform.system_admin)
    acme, globex = _shop(platform, root), _shop(platform, root)
    before = {s.tenant_id: _settled(platform, root, s.tenant_id) for s in (acme, globex)}

    # When acme makes 5 product calls (one 201, three 200, one 404) and globex 2 order lists
    created = platform.api("POST", "/products", token=acme.admin, json=MUG)
    assert created.status == 201, created.text
    for _ in range(3):
        assert platform.api("GET", "/products", token=acme.user).status == 200
    assert platform.api("GET", "/products/no-such-product", token=acme.user).status == 404
    for _ in range(2):
        assert platform.api("GET", "/orders", token=globex.user).status == 200

    after = {s.tenant_id: _settled(platform, root, s.tenant_id) for s in (acme, globex)}
    a_before, a_after = before[acme.tenant_id], after[acme.tenant_id]
    g_before, g_after = before[globex.tenant_id], after[globex.tenant_id]

    # Then each tenant has exactly its own requests, and no other's
    assert _delta(a_after, a_before, "requests") == 5
    assert _delta(a_after, a_before, "errors_4xx") == 1
    assert _delta(a_after, a_before, "errors_5xx") == 0
    assert _delta(g_after, g_before, "requests") == 2
    assert _delta(g_after, g_before, "errors_4xx") == 0
    # The product was written and read under acme's tenant as DynamoDB (moto) reported it
    assert _delta(a_after, a_before, "write_capacity_units") > 0
    assert _delta(a_after, a_before, "read_capacity_units") > 0
    assert _delta(a_after, a_before, "lambda_billed_ms") >= 5
    assert a_after["cost"]["by_service"]["product"] > a_before["cost"]["by_service"].get(
        "product", 0.0
    )
    assert _delta(g_after, g_before, "read_capacity_units") > 0  # its two queries of orders
    assert g_after["cost"]["by_service"].get("product", 0.0) == pytest.approx(
        g_before["cost"]["by_service"].get("product", 0.0)
    )

    # When the subscription delivers its last deliveries again, nothing is counted twice
    subscriptions = platform.platform.log_subscriptions
    assert subscriptions is not None
    assert subscriptions.failed == 0
    (policy,) = subscriptions.policies
    theirs = [
        body
        for body in list(subscriptions.last_deliveries)
        if any(s.tenant_id in e["message"] for e in body["logEvents"] for s in (acme, globex))
    ]
    assert theirs
    for body in theirs:
        data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
        again = platform.platform._runtime_by_arn(policy.destination_arn).invoke(
            {"awslogs": {"data": data}}
        )
        assert again["counted"] is False
    assert _settled(platform, root, acme.tenant_id) == a_after
    assert _settled(platform, root, globex.tenant_id) == g_after


def test_a_tenant_admin_reads_its_own_usage_only_and_the_shared_part_is_shown(
    platform: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = platform.login(*platform.system_admin)
    acme = _shop(platform, root)
    own = platform.api("GET", f"/tenants/{acme.tenant_id}/usage", token=acme.admin)
    assert own.status == 200, own.text
    assert len(own.json()["days"]) == 7
    assert platform.api("GET", "/tenants/someone-else/usage", token=acme.admin).status == 404
    assert platform.api("GET", "/usage/shared", token=acme.admin).status == 403
    shared = platform.api("GET", "/usage/shared", token=root)
    assert shared.status == 200, shared.text
    # The relays, the authorizer and the provisioner have run for the onboarding: shared usage
    assert shared.json()["tenant_id"] == "_shared"
    assert shared.json()["total"]["lambda_invocations"] > 0

    # make usage prints the same as a table
    from saas_devtools.usage.cli import main

    capsys.readouterr()
    assert main(["--tenant", acme.tenant_id, "--api-url", platform.api_url, "--token", root]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"usage of {acme.tenant_id} from ")
    assert len([line for line in printed if line[:4].isdigit()]) == 7  # a row per day
    everyone = platform.api("GET", "/usage?limit=100", token=root)
    assert everyone.status == 200, everyone.text
    assert "_shared" in [t["tenant_id"] for t in everyone.json()["tenants"]]
