"""The product service end to end through the local platform: real tokens through the tenant
authorizer and the gateway, the product API and consumer from services/product/template.yaml,
the outbox relayed from the table's stream, tenant lifecycle events from the bus."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import active_tenant

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Product-Passw0rd-1"
FLOW_TIMEOUT = 120.0  # seconds a flow may take on a loaded 2-core machine (a bound, not a timing)
MUG = {"name": "Mug", "sku": "MUG-1", "price": "12.50", "stock": 5}

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Shop:
    tenant_id: str
    admin: str  # TenantAdmin's ID token
    user: str  # TenantUser's ID token


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    for service in ("tenant", "provisioner", "product"):
        if not (ROOT / "services" / service / "template.yaml").is_file():
            pytest.skip(f"services/{service}/template.yaml is not there yet")
    from saas_local.testing import start_platform

    with start_platform(ROOT, region_map={"us": "us-east-1"}) as running:
        yield running


def _onboard(platform: Any) -> Shop:
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    tenant_id = active_tenant(platform, root, timeout=FLOW_TIMEOUT)
    tokens = {}
    for group in ("TenantAdmin", "TenantUser"):
        username = f"{group.lower()}-{suffix}"
        platform.create_user(username, PASSWORD, group, tenant_id)
        tokens[group] = platform.login(username, PASSWORD)
    return Shop(tenant_id, tokens["TenantAdmin"], tokens["TenantUser"])


@pytest.fixture(scope="module")
def shop(platform: Any) -> Shop:
    return _onboard(platform)


def _items_of(platform: Any, tenant_id: str) -> list[dict[str, Any]]:
    dynamodb = platform.client("dynamodb")
    return list(
        dynamodb.query(
            TableName="saas-products",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        )["Items"]
    )


def test_an_admin_manages_the_catalogue_and_a_user_reads_it(platform: Any, shop: Shop) -> None:
    # Given a product created by the TenantAdmin
    created = platform.api("POST", "/products", token=shop.admin, json=MUG)
    assert created.status == 201, created.text
    product = created.json()
    path = f"/products/{product['id']}"

    # Then the TenantUser reads it, but may not change it
    assert platform.api("GET", path, token=shop.user).json() == product
    assert platform.api("PUT", path, token=shop.user, json={**MUG, "stock": 1}).status == 403
    assert platform.api("DELETE", path, token=shop.user).status == 403

    # When the admin replaces it, the list shows the new version
    replaced = platform.api("PUT", path, token=shop.admin, json={**MUG, "price": "9.99"})
    assert replaced.status == 200, replaced.text
    listed = platform.api("GET", "/products?limit=100", token=shop.user).json()["items"]
    assert {**product, "price": "9.99"} in listed

    # When it is deleted, it is gone
    assert platform.api("DELETE", path, token=shop.admin).status == 204
    assert platform.api("GET", path, token=shop.admin).status == 404


def test_bad_input_through_the_gateway_is_a_4xx_and_writes_nothing(
    platform: Any, shop: Shop
) -> None:
    before = _items_of(platform, shop.tenant_id)

    missing = platform.api("POST", "/products", token=shop.admin, json={"name": "Mug"})
    extra = platform.api("POST", "/products", token=shop.admin, json={**MUG, "tenant_id": "x"})
    negative = platform.api("POST", "/products", token=shop.admin, json={**MUG, "stock": -1})
    bad_token = platform.api("GET", "/products?next_token=nope", token=shop.admin)

    assert missing.status == 422
    assert "sku" in missing.text
    assert extra.status == 422
    assert "tenant_id" in extra.text
    assert negative.status == 422
    assert "stock" in negative.text
    assert bad_token.status == 400
    assert "next_token" in bad_token.text
    assert _items_of(platform, shop.tenant_id) == before


def test_tenant_deprovisioned_on_the_bus_purges_the_tenants_products(platform: Any) -> None:
    # Given a tenant with a product
    leaving = _onboard(platform)
    created = platform.api("POST", "/products", token=leaving.admin, json=MUG)
    assert created.status == 201, created.text
    assert _items_of(platform, leaving.tenant_id)

    # When the provisioner announces its environment is gone
    from tenant_context import RegionGroup, Role, TenantContext, Tier, new_metadata, write_envelope

    context = TenantContext(
        leaving.tenant_id, Role.SERVICE, "saas.provisioner", Tier.BASIC, RegionGroup.US
    )
    metadata = new_metadata(
        tenant_id=leaving.tenant_id, producer="saas.provisioner", context=context
    )
    platform.client("events").put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": "saas.provisioner",
                "DetailType": "TenantDeprovisioned",
                "Detail": json.dumps(write_envelope(metadata, {"tenant_id": leaving.tenant_id})),
            }
        ]
    )

    # Then every item of the tenant is deleted from the products table
    platform.wait_until(lambda: not _items_of(platform, leaving.tenant_id), timeout=FLOW_TIMEOUT)
