"""A suspension that takes effect, through the local platform: a token used just before the
tenant is suspended (its authorizer answer cached by the gateway for ReauthorizeEvery, 300 s,
and its tenant's standing cached by the authorizer) is refused within 10 s on every API; the
activation lets the same token in again within 10 s; offboarding refuses it likewise.

The mechanism: the tenant service's consumer reacts to its own TenantSuspended /
TenantActivated / TenantOffboardingRequested by flushing every API stage's authorizer cache
(FlushStageAuthorizersCache, which the local gateway honours), at once and again once every
authorizer's cached standing from before the change has expired (app/access.py).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import active_tenant

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Suspend-Passw0rd-1"
BOUND_SECONDS = 10.0
FLOW_TIMEOUT = 120.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    from saas_local.testing import start_platform

    templates = [
        ROOT / "services" / s / "template.yaml" for s in ("tenant", "provisioner", "product")
    ]
    with start_platform(ROOT, templates, region_map={"us": "us-east-1"}) as running:
        yield running


@pytest.fixture(scope="module")
def root(platform: Any) -> str:
    return str(platform.login(*platform.system_admin))


def _active_tenant(platform: Any, root: str) -> tuple[str, str]:
    """A new ACTIVE tenant and its TenantAdmin's ID token."""
    suffix = uuid.uuid4().hex[:8]
    tenant_id = active_tenant(platform, root, timeout=FLOW_TIMEOUT)
    username = f"admin-{suffix}"
    platform.create_user(username, PASSWORD, "TenantAdmin", tenant_id)
    return tenant_id, platform.login(username, PASSWORD)


def _answers(platform: Any, token: str, tenant_id: str) -> list[Any]:
    """The token on the product API and on the tenant API."""
    return [
        platform.api("GET", "/products", token=token),
        platform.api("GET", f"/tenants/{tenant_id}", token=token),
    ]


def _seconds_until(platform: Any, predicate: Any, since: float) -> float:
    platform.wait_until(predicate, timeout=FLOW_TIMEOUT, interval=0.2)
    return time.monotonic() - since


def test_a_used_token_is_refused_within_seconds_of_a_suspension_and_let_in_on_activation(
    platform: Any, root: str
) -> None:
    # Given a tenant admin's token, used on two APIs just before (answers cached for 300 s)
    tenant_id, token = _active_tenant(platform, root)
    assert [a.status for a in _answers(platform, token, tenant_id)] == [200, 200]

    # When the SystemAdmin suspends the tenant
    suspended = platform.api("POST", f"/tenants/{tenant_id}/suspend", token=root)
    assert suspended.status == 200, suspended.text
    since = time.monotonic()

    # Then the same token is refused on every API within the bound, saying why
    delay = _seconds_until(
        platform, lambda: {a.status for a in _answers(platform, token, tenant_id)} == {403}, since
    )
    print(f"suspension took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS
    assert {a.json()["message"] for a in _answers(platform, token, tenant_id)} == {
        f"tenant {tenant_id} is SUSPENDED"
    }

    # And when it is activated again, the same token is let in within the bound
    activated = platform.api("POST", f"/tenants/{tenant_id}/activate", token=root)
    assert activated.status == 200, activated.text
    since = time.monotonic()
    delay = _seconds_until(
        platform,
        lambda: [a.status for a in _answers(platform, token, tenant_id)] == [200, 200],
        since,
    )
    print(f"activation took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS


def test_a_used_token_is_refused_within_seconds_of_offboarding(platform: Any, root: str) -> None:
    tenant_id, token = _active_tenant(platform, root)
    assert [a.status for a in _answers(platform, token, tenant_id)] == [200, 200]

    offboarded = platform.api("DELETE", f"/tenants/{tenant_id}", token=root)
    assert offboarded.status in (200, 202), offboarded.text
    since = time.monotonic()

    delay = _seconds_until(
        platform, lambda: {a.status for a in _answers(platform, token, tenant_id)} == {403}, since
    )
    print(f"offboarding took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS
    assert {a.json()["message"] for a in _answers(platform, token, tenant_id)} <= {
        f"tenant {tenant_id} is OFFBOARDING",
        f"tenant {tenant_id} is OFFBOARDED",
    }
