"""Tenant activation through the local platform with the tenant service alone (moto's server,
the real platform and tenant templates, the HTTP gateway running the real authorizer and API,
the queue pump running the real consumer): TenantProvisioned makes the tenant ACTIVE, its admin
is invited, logs in from the invitation and creates a user; bad tokens get 401.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import invitation_for, onboard, publish_provisioned, tenant_status

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tenant_platform() -> Iterator[Any]:
    """The platform stack with the tenant service alone, in one region: what these first tests
    need, whatever state the other services' templates are in."""
    from saas_local.testing import start_platform

    with start_platform(
        ROOT, [ROOT / "services/tenant/template.yaml"], region_map={"us": "us-east-1"}
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def root_token(tenant_platform: Any) -> str:
    return str(tenant_platform.login(*tenant_platform.system_admin))


def test_a_tenant_becomes_active_on_tenant_provisioned_and_its_admin_is_invited(
    tenant_platform: Any, root_token: str
) -> None:
    local_platform = tenant_platform
    # Given a tenant the SystemAdmin onboarded
    email = f"boss-{uuid.uuid4().hex[:8]}@acme.test"
    tenant_id = onboard(local_platform, root_token, email)

    # When its environment is reported ready (here: the provisioner's event, published directly)
    publish_provisioned(local_platform, tenant_id)

    # Then it becomes ACTIVE and its admin is invited
    local_platform.wait_until(
        lambda: tenant_status(local_platform, root_token, tenant_id) == "ACTIVE", timeout=30
    )
    invitation = invitation_for(local_platform, email)
    assert invitation["tenant_id"] == tenant_id

    # And the admin's first login must set a new password, then reads its own tenant only
    admin = local_platform.login(
        invitation["username"], invitation["temporary_password"], new_password="Admin-Passw0rd-1"
    )
    assert local_platform.api("GET", f"/tenants/{tenant_id}", token=admin).status == 200
    assert local_platform.api("GET", "/tenants", token=admin).status == 403

    # And it creates a TenantUser in its tenant
    created = local_platform.api(
        "POST", "/users", token=admin, json={"email": f"u-{email}", "role": "TenantUser"}
    )
    assert created.status == 201, created.text
    users = local_platform.api("GET", "/users", token=admin).json()["items"]
    assert {u["role"] for u in users} == {"TenantAdmin", "TenantUser"}


def test_lifecycle_events_reach_the_bus_through_the_outbox_relay(
    tenant_platform: Any, root_token: str
) -> None:
    # Given a queue subscribed to the tenant service's events on the bus
    sqs, events = tenant_platform.client("sqs"), tenant_platform.client("events")
    url = sqs.create_queue(QueueName="e2e-tenant-watcher")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="e2e-tenant-watcher", EventBusName="saas", EventPattern='{"source": ["saas.tenant"]}'
    )
    events.put_targets(
        Rule="e2e-tenant-watcher", EventBusName="saas", Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    # When a tenant is onboarded
    tenant_id = onboard(tenant_platform, root_token, f"x-{uuid.uuid4().hex[:8]}@acme.test")

    # Then its TenantRegistered, written to the outbox with the record, is on the bus
    def registered() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            if body["detail"]["metadata"]["tenant_id"] == tenant_id:
                return dict(body)
        return None

    event = tenant_platform.wait_until(registered, timeout=30)
    assert event["detail-type"] == "TenantRegistered"
    assert event["detail"]["data"]["region_group"] == "us"
    assert event["detail"]["metadata"]["producer"] == "saas.tenant"


def test_tokens_that_are_not_a_members_id_token_are_refused(
    tenant_platform: Any, root_token: str
) -> None:
    local_platform = tenant_platform
    assert local_platform.api("GET", "/tenants").status == 401
    assert local_platform.api("GET", "/tenants", token="not-a-jwt").status == 401
    assert local_platform.api("GET", "/tenants", token=root_token + "x").status == 401
    assert local_platform.api("GET", "/tenants", token=root_token).status == 200
