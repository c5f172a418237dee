"""Helpers of the tenant end-to-end tests: onboarding calls and the local invitations."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any


def invitation_for(platform: Any, email: str) -> dict[str, Any]:
    """The invitation Cognito would have emailed, as the tenant service wrote it locally (the
    functions run in the platform's working directory, INVITATION_OUTBOX_DIR=.local/outbox)."""
    outbox = Path.cwd() / ".local" / "outbox"

    def found() -> dict[str, Any] | None:
        for path in sorted(outbox.glob("*.json")):
            body: dict[str, Any] = json.loads(path.read_text())
            if body["to"] == email:
                return body
        return None

    return platform.wait_until(found, timeout=30)


def tenant_status(platform: Any, token: str, tenant_id: str) -> str:
    response = platform.api("GET", f"/tenants/{tenant_id}", token=token)
    # While polling, an error answer is just "not there yet"; the caller's wait reports it.
    return str(response.json().get("status", f"HTTP {response.status}"))


def onboard(platform: Any, token: str, email: str, tier: str = "basic", name: str = "Acme") -> str:
    response = platform.api(
        "POST",
        "/tenants",
        token=token,
        json={"name": name, "tier": tier, "region_group": "us", "admin_email": email},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 202, response.text
    assert response.json()["status"] == "PROVISIONING"
    return str(response.json()["id"])


def active_tenant(platform: Any, root: str, *, timeout: float, tier: str = "basic") -> str:
    """A new tenant onboarded by the SystemAdmin (`root`'s token), once the provisioner has made
    it ACTIVE: its id."""
    suffix = uuid.uuid4().hex[:8]
    tenant_id = onboard(
        platform, root, f"owner-{suffix}@shop.test", tier=tier, name=f"Shop {suffix}"
    )
    platform.wait_until(
        lambda: tenant_status(platform, root, tenant_id) == "ACTIVE", timeout=timeout
    )
    return tenant_id


def publish_provisioned(platform: Any, tenant_id: str) -> None:
    """Publish what the provisioner publishes when a tenant's environment is ready."""
    from tenant_context import new_metadata, write_envelope

    metadata = new_metadata(tenant_id=tenant_id, producer="saas.provisioner")
    detail = write_envelope(
        metadata,
        {
            "tenant_id": tenant_id,
            "stack_name": f"tenant-{tenant_id}",
            "region": "us-east-1",
            "outputs": {},
        },
    )
    platform.client("events").put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": "saas.provisioner",
                "DetailType": "TenantProvisioned",
                "Detail": json.dumps(detail),
            }
        ]
    )
