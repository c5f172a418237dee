"""Tenant onboarding through the local platform (moto's server, the real templates, the HTTP
gateway running the real authorizer and handlers, the pumps running the real consumers).

The SystemAdmin onboards a tenant; once its environment is ready (TenantProvisioned) the
tenant's admin is invited (locally: `.local/outbox/<username>.json`), logs in, must set a new
password, creates a TenantUser, and that user can read products but not create them.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import invitation_for, onboard, tenant_status

ROOT = Path(__file__).resolve().parents[2]
NEEDS = {
    "provisioner": "the provisioner's template (services/provisioner/template.yaml) is not there "
    "yet: nothing turns TenantRegistered into TenantProvisioned",
    "product": "the product service's template (services/product/template.yaml) is not there "
    "yet: no /products route to call",
}


pytestmark = pytest.mark.slow


def _require(*services: str) -> None:
    for service in services:
        if not (ROOT / "services" / service / "template.yaml").is_file():
            pytest.skip(NEEDS[service])


@pytest.fixture(scope="module")
def whole_platform() -> Iterator[Any]:
    """The platform with every service's real template (started only when the flow can run)."""
    _require("provisioner", "product")
    from saas_local.testing import start_platform

    with start_platform(ROOT) as platform:
        yield platform


def test_the_full_onboarding_a_user_reads_products_but_cannot_create_them(
    whole_platform: Any,
) -> None:
    local_platform = whole_platform
    root_token = local_platform.login(*local_platform.system_admin)
    # Given a tenant onboarded by the SystemAdmin and provisioned by the provisioner
    email = f"owner-{uuid.uuid4().hex[:8]}@acme.test"
    tenant_id = onboard(local_platform, root_token, email)
    local_platform.wait_until(
        lambda: tenant_status(local_platform, root_token, tenant_id) == "ACTIVE", timeout=60
    )

    # When its admin logs in from the invitation and creates a TenantUser
    invitation = invitation_for(local_platform, email)
    admin = local_platform.login(
        invitation["username"], invitation["temporary_password"], new_password="Admin-Passw0rd-1"
    )
    user_email = f"shopper-{uuid.uuid4().hex[:8]}@acme.test"
    created = local_platform.api(
        "POST", "/users", token=admin, json={"email": user_email, "role": "TenantUser"}
    )
    assert created.status == 201, created.text
    user_invitation = invitation_for(local_platform, user_email)
    user = local_platform.login(
        user_invitation["username"],
        user_invitation["temporary_password"],
        new_password="User-Passw0rd-1",
    )

    # Then that user can read products but not create them
    assert local_platform.api("GET", "/products", token=user).status == 200
    denied = local_platform.api(
        "POST",
        "/products",
        token=user,
        json={"name": "Widget", "sku": "W-1", "price": "12.50", "stock": 3},
    )
    assert denied.status == 403


def test_an_offboarded_tenant_ends_offboarded_and_its_members_are_shut_out(
    whole_platform: Any,
) -> None:
    platform = whole_platform
    root_token = platform.login(*platform.system_admin)
    # Given an ACTIVE tenant whose admin has logged in
    email = f"leaver-{uuid.uuid4().hex[:8]}@acme.test"
    tenant_id = onboard(platform, root_token, email)
    platform.wait_until(lambda: tenant_status(platform, root_token, tenant_id) == "ACTIVE", 60)
    invitation = invitation_for(platform, email)
    admin = platform.login(
        invitation["username"], invitation["temporary_password"], new_password="Admin-Passw0rd-1"
    )
    assert platform.api("GET", "/users", token=admin).status == 200

    # When the SystemAdmin offboards it
    response = platform.api("DELETE", f"/tenants/{tenant_id}", token=root_token)
    assert response.status == 202, response.text
    assert response.json()["status"] == "OFFBOARDING"

    # Then once its environment is gone it is OFFBOARDED
    platform.wait_until(
        lambda: tenant_status(platform, root_token, tenant_id) == "OFFBOARDED", timeout=120
    )
    # And its admin can no longer add users: the API refuses at once (409) and the authorizer
    # denies the tenant (403) once its cached standing expires (README, tenant section)
    response = platform.api(
        "POST", "/users", token=admin, json={"email": f"late-{email}", "role": "TenantUser"}
    )
    assert response.status in (403, 409), response.text
