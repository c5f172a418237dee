"""A disabled or removed user is refused within seconds, through the local platform: a
TenantUser's token used just before (its authorizer answer cached by the gateway for
ReauthorizeEvery, 300 s, and its user's standing cached by the authorizer) is refused within
10 s on every API once its TenantAdmin disables it, saying why; enabling it lets the same token
in again within 10 s; removing it refuses it likewise.

The mechanism: the authorizer reads the token's user (the tenant service's record, a tombstone
once removed) besides its tenant, both cached 5 s and read again on API Gateway's re-ask; the
tenant service's consumer reacts to TenantUserDisabled / TenantUserEnabled / TenantUserRemoved
by flushing every API stage's authorizer cache (app/access.py), as it does for a suspension.
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

from tenant_e2e_kit import active_tenant, invitation_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Revoke-Passw0rd-1"
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


@pytest.fixture
def member(platform: Any) -> tuple[str, str, str, str]:
    """An ACTIVE tenant, its TenantAdmin's token, and a TenantUser the admin invited through
    the API (so the tenant service records it) with its ID token."""
    root = str(platform.login(*platform.system_admin))
    suffix = uuid.uuid4().hex[:8]
    tenant_id = active_tenant(platform, root, timeout=FLOW_TIMEOUT)
    platform.create_user(f"admin-{suffix}", PASSWORD, "TenantAdmin", tenant_id)
    admin = platform.login(f"admin-{suffix}", PASSWORD)
    email = f"member-{suffix}@revoke.test"
    invited = platform.api(
        "POST", "/users", token=admin, json={"email": email, "role": "TenantUser"}
    )
    assert invited.status == 201, invited.text
    username = str(invited.json()["username"])
    invitation = invitation_for(platform, email)
    token = platform.login(username, invitation["temporary_password"], new_password=PASSWORD)
    return tenant_id, admin, username, token


def _answers(platform: Any, token: str, tenant_id: str) -> list[Any]:
    """The token on the product API (a TenantUser's route) and on the tenant API (not one)."""
    return [
        platform.api("GET", "/products", token=token),
        platform.api("GET", f"/tenants/{tenant_id}", token=token),
    ]


def _messages(platform: Any, token: str, tenant_id: str) -> list[str]:
    return [a.json().get("message", "") for a in _answers(platform, token, tenant_id)]


def _seconds_until(platform: Any, predicate: Any, since: float) -> float:
    platform.wait_until(predicate, timeout=FLOW_TIMEOUT, interval=0.2)
    return time.monotonic() - since


def test_a_used_token_is_refused_within_seconds_of_disabling_its_user_and_let_in_on_enabling(
    platform: Any, member: tuple[str, str, str, str]
) -> None:
    # Given a TenantUser's token, used on two APIs just before (answers cached for 300 s)
    tenant_id, admin, username, token = member
    before = _answers(platform, token, tenant_id)
    assert [a.status for a in before] == [200, 403]
    assert before[1].json()["message"] == "TenantUser may not call this route"

    # When its TenantAdmin disables it
    disabled = platform.api("POST", f"/users/{username}/disable", token=admin)
    assert (disabled.status, disabled.json()["enabled"]) == (200, False), disabled.text
    since = time.monotonic()

    # Then the same token is refused on every API within the bound, saying why
    refused = [f"user {username} is disabled"] * 2
    delay = _seconds_until(
        platform, lambda: _messages(platform, token, tenant_id) == refused, since
    )
    print(f"disabling took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS
    assert [a.status for a in _answers(platform, token, tenant_id)] == [403, 403]

    # And when it is enabled again, the same token is let in within the bound
    enabled = platform.api("POST", f"/users/{username}/enable", token=admin)
    assert (enabled.status, enabled.json()["enabled"]) == (200, True), enabled.text
    since = time.monotonic()
    delay = _seconds_until(
        platform,
        lambda: [a.status for a in _answers(platform, token, tenant_id)] == [200, 403],
        since,
    )
    print(f"enabling took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS
    assert _messages(platform, token, tenant_id)[1] == "TenantUser may not call this route"


def test_a_used_token_is_refused_within_seconds_of_removing_its_user(
    platform: Any, member: tuple[str, str, str, str]
) -> None:
    tenant_id, admin, username, token = member
    assert [a.status for a in _answers(platform, token, tenant_id)] == [200, 403]

    removed = platform.api("DELETE", f"/users/{username}", token=admin)
    assert removed.status == 204, removed.text
    since = time.monotonic()

    refused = [f"user {username} is removed"] * 2
    delay = _seconds_until(
        platform, lambda: _messages(platform, token, tenant_id) == refused, since
    )
    print(f"removal took effect after {delay:.1f} s")
    assert delay <= BOUND_SECONDS
    assert [a.status for a in _answers(platform, token, tenant_id)] == [403, 403]
    # The admin's own token, of the same tenant, is not touched
    assert platform.api("GET", f"/tenants/{tenant_id}", token=admin).status == 200
