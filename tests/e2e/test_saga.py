"""The order saga end to end through the local platform: moto's server with the real templates,
the HTTP gateway running the tenant service's authorizer and the real API handlers, and the
pumps feeding SQS and DynamoDB-stream records to the real consumers and relays.

Tenants are onboarded by the SystemAdmin (POST /tenants) and made ACTIVE by the provisioner;
their admins and users are created directly in the platform's Cognito (`create_user`), with
`custom:tenant_id` and the role's group, so these tests do not depend on invitation mail.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import active_tenant

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("tenant", "provisioner", "product", "order")
PASSWORD = "Saga-Passw0rd-1"
SAGA_TIMEOUT = 120.0  # seconds a flow may take on a loaded 2-core machine (a bound, not a timing)

pytestmark = pytest.mark.slow


def _require_templates() -> None:
    for service in SERVICES:
        if not (ROOT / "services" / service / "template.yaml").is_file():
            pytest.skip(
                f"services/{service}/template.yaml is not there yet: the saga needs the tenant "
                "(authorizer), provisioner, product and order stacks"
            )


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    admin: str  # TenantAdmin's ID token: writes products
    user: str  # TenantUser's ID token: places orders


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    _require_templates()
    from saas_local.testing import start_platform

    # One region: these flows are about the saga and authorization; residency is tested
    # against moto in services/order/tests/adapters/test_dynamodb_residency.py.
    with start_platform(ROOT, region_map={"us": "us-east-1"}) as running:
        yield running


def _onboard(platform: Any) -> Tenant:
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    tenant_id = active_tenant(platform, root, timeout=SAGA_TIMEOUT)
    tokens = {}
    for group in ("TenantAdmin", "TenantUser"):
        username = f"{group.lower()}-{suffix}"
        platform.create_user(username, PASSWORD, group, tenant_id)
        tokens[group] = platform.login(username, PASSWORD)
    return Tenant(tenant_id, tokens["TenantAdmin"], tokens["TenantUser"])


@pytest.fixture(scope="module")
def shop(platform: Any) -> Tenant:
    return _onboard(platform)


@pytest.fixture(scope="module")
def other_shop(platform: Any) -> Tenant:
    return _onboard(platform)


def _product(platform: Any, tenant: Tenant, stock: int) -> str:
    answer = platform.api(
        "POST",
        "/products",
        token=tenant.admin,
        json={
            "name": "Mug",
            "sku": f"MUG-{uuid.uuid4().hex[:6]}",
            "price": "12.50",
            "stock": stock,
        },
    )
    assert answer.status == 201, answer.text
    return str(answer.json()["id"])


def _stock(platform: Any, tenant: Tenant, product_id: str) -> int:
    answer = platform.api("GET", f"/products/{product_id}", token=tenant.admin)
    assert answer.status == 200, answer.text
    return int(answer.json()["stock"])


def _place(platform: Any, tenant: Tenant, product_id: str, quantity: int) -> str:
    """POST /orders: accepted at once (202, PENDING) whatever the product; the saga decides."""
    answer = platform.api(
        "POST",
        "/orders",
        token=tenant.user,
        json={"lines": [{"product_id": product_id, "quantity": quantity}]},
    )
    assert answer.status == 202, answer.text
    assert answer.json()["status"] == "PENDING"
    return str(answer.json()["id"])


def _order(platform: Any, tenant: Tenant, order_id: str) -> dict[str, Any]:
    answer = platform.api("GET", f"/orders/{order_id}", token=tenant.user)
    assert answer.status == 200, answer.text
    return dict(answer.json())


def _settled(platform: Any, tenant: Tenant, order_id: str) -> dict[str, Any]:
    return dict(
        platform.wait_until(
            lambda: (o := _order(platform, tenant, order_id))["status"] != "PENDING" and o,
            timeout=SAGA_TIMEOUT,
            interval=0.2,
        )
    )


def _all_orders(platform: Any, tenant: Tenant) -> list[dict[str, Any]]:
    orders, token = [], None
    while True:
        path = "/orders?limit=100" + (f"&next_token={token}" if token else "")
        page = platform.api("GET", path, token=tenant.user)
        assert page.status == 200, page.text
        orders += page.json()["items"]
        token = page.json()["next_token"]
        if not token:
            return orders


def test_confirm_reject_and_cancel_move_stock_as_the_saga_says(platform: Any, shop: Tenant) -> None:
    # Given a product with stock 5
    product = _product(platform, shop, stock=5)

    # When an order for 2 is placed, then it is CONFIRMED and stock is 3
    first = _place(platform, shop, product, 2)
    assert _settled(platform, shop, first)["status"] == "CONFIRMED"
    assert _stock(platform, shop, product) == 3

    # When an order for 10 is placed, then it is REJECTED with a reason and stock stays 3
    second = _place(platform, shop, product, 10)
    rejected = _settled(platform, shop, second)
    assert rejected["status"] == "REJECTED"
    assert rejected["reason"]
    assert _stock(platform, shop, product) == 3

    # When the first order is cancelled, then it is CANCELLED and stock is back to 5
    cancelled = platform.api("POST", f"/orders/{first}/cancel", token=shop.user)
    assert cancelled.status == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    platform.wait_until(lambda: _stock(platform, shop, product) == 5, timeout=SAGA_TIMEOUT)
    assert _order(platform, shop, first)["status"] == "CANCELLED"


def test_an_order_placed_right_after_its_product_is_created_is_confirmed(
    platform: Any, shop: Tenant
) -> None:
    # Given a product created this instant (its ProductCreated may still be on its way)
    product = _product(platform, shop, stock=4)

    # When an order for it is placed at once, with no wait and no retry
    answer = platform.api(
        "POST",
        "/orders",
        token=shop.user,
        json={"lines": [{"product_id": product, "quantity": 1}]},
    )

    # Then it is accepted, and the saga confirms it
    assert answer.status == 202, answer.text
    assert answer.json()["status"] == "PENDING"
    assert _settled(platform, shop, str(answer.json()["id"]))["status"] == "CONFIRMED"
    assert _stock(platform, shop, product) == 3


def test_an_order_for_a_product_that_does_not_exist_is_rejected_naming_it(
    platform: Any, shop: Tenant
) -> None:
    # Given a product id no product of the tenant has
    missing = f"p-missing-{uuid.uuid4().hex[:8]}"

    # When an order names it
    order = _place(platform, shop, missing, 1)

    # Then the product service, the authority on products, decides: REJECTED with a reason
    # that names the product
    rejected = _settled(platform, shop, order)
    assert rejected["status"] == "REJECTED"
    assert missing in rejected["reason"]


def test_200_concurrent_orders_for_50_units_confirm_exactly_50(platform: Any, shop: Tenant) -> None:
    # Given a product with stock 50
    product = _product(platform, shop, stock=50)
    first = _place(platform, shop, product, 1)
    before = {o["id"] for o in _all_orders(platform, shop)} - {first}

    # When 199 more orders for one unit each are placed concurrently (a client retries a request
    # the gateway answered 5xx or that timed out, with the same Idempotency-Key: still one order
    # per request)
    def place(_: int) -> str:
        key = str(uuid.uuid4())
        body = {"lines": [{"product_id": product, "quantity": 1}]}

        def accepted() -> str | None:
            try:
                answer = platform.api(
                    "POST", "/orders", token=shop.user, json=body, headers={"Idempotency-Key": key}
                )
            except OSError:  # the client gave up waiting (a loaded machine): retry, same key
                return None
            if answer.status >= 500:
                return None
            assert answer.status == 202, answer.text
            return str(answer.json()["id"])

        return str(platform.wait_until(accepted, timeout=SAGA_TIMEOUT, interval=0.5))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = {first, *pool.map(place, range(199))}
    assert len(ids) == 200

    # Then, once every order is decided, exactly 50 are CONFIRMED and 150 REJECTED, and the
    # stock, never seen below zero while they were decided, is 0
    seen_stock: list[int] = []

    def decided() -> list[dict[str, Any]] | None:
        try:
            seen_stock.append(_stock(platform, shop, product))
            mine = [o for o in _all_orders(platform, shop) if o["id"] in ids]
        except (OSError, AssertionError):  # a read that timed out or got a 5xx: look again
            return None
        return mine if all(o["status"] != "PENDING" for o in mine) else None

    orders = platform.wait_until(decided, timeout=6 * SAGA_TIMEOUT, interval=1.0)
    statuses = [o["status"] for o in orders]
    assert (statuses.count("CONFIRMED"), statuses.count("REJECTED")) == (50, 150)
    assert _stock(platform, shop, product) == 0
    assert min(seen_stock) >= 0
    assert not before & ids


def _id_routes() -> list[tuple[str, str, str]]:
    """(service, method, path) of every API route that takes an id, from the templates."""
    found = []
    for service in ("product", "order"):
        template = yaml.load(
            (ROOT / "services" / service / "template.yaml").read_text(), Loader=_AnyTagLoader
        )
        for resource in template["Resources"].values():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            for event in (resource["Properties"].get("Events") or {}).values():
                props = event["Properties"]
                if event["Type"] == "Api" and "{" in props["Path"]:
                    found.append((service, str(props["Method"]).upper(), str(props["Path"])))
    return sorted(found)


class _AnyTagLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


_AnyTagLoader.add_multi_constructor(
    "!",
    lambda loader, _suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def test_another_tenants_token_gets_404_on_every_id_route_and_sees_nothing_in_lists(
    platform: Any, shop: Tenant, other_shop: Tenant
) -> None:
    # Given a product and an order of tenant A
    product = _product(platform, shop, stock=3)
    order = _place(platform, shop, product, 1)
    ids = {"product": product, "order": order}
    routes = _id_routes()
    assert {(s, m) for s, m, _ in routes} >= {("order", "GET"), ("order", "POST")}

    # When tenant B calls every route that takes an id with A's ids, with either of its roles
    for service, method, path in routes:
        concrete = path.split("{")[0] + ids[service] + path.split("}", 1)[1]
        body = None
        if method in ("PUT", "POST") and service == "product":
            body = {"name": "Stolen", "sku": "X-1", "price": "0.01", "stock": 999}
        token = other_shop.admin if service == "product" else other_shop.user
        answer = platform.api(method, concrete, token=token, json=body)

        # Then it is not found, as if A's object did not exist
        assert answer.status == 404, f"{method} {path}: {answer.status} {answer.text}"

    # And A's objects are untouched, and B's lists never show them
    assert _order(platform, shop, order)["status"] in ("PENDING", "CONFIRMED")
    assert _stock(platform, shop, product) in (2, 3)
    assert order not in {o["id"] for o in _all_orders(platform, other_shop)}
    listed = platform.api("GET", "/products?limit=100", token=other_shop.admin).json()["items"]
    assert product not in {p["id"] for p in listed}


# docs/conventions.md, "The outbox item and the processed marker": one shape in every service.
OUTBOX_TTL = 24 * 3600
MARKER_TTL = 15 * 24 * 3600
TTL_SLACK = 15 * 60  # the flows above ran within minutes of this check


def _all_items(platform: Any) -> dict[str, list[dict[str, Any]]]:
    dynamodb = platform.client("dynamodb")
    items: dict[str, list[dict[str, Any]]] = {}
    for table in dynamodb.list_tables()["TableNames"]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        items[table] = [item for page in pages for item in page["Items"]]
    return items


def test_every_service_writes_outbox_items_and_markers_of_the_one_convention(
    platform: Any, shop: Tenant
) -> None:
    # Given a tenant onboarded (tenant service), a product created (product service) and an
    # order confirmed (order and product services react to each other's events)
    product_id = _product(platform, shop, stock=5)
    order_id = _place(platform, shop, product_id, 1)
    platform.wait_until(
        lambda: _order(platform, shop, order_id)["status"] == "CONFIRMED", timeout=SAGA_TIMEOUT
    )

    # When every table of the platform is read
    now = time.time()
    outbox: dict[str, list[dict[str, Any]]] = {}
    markers: dict[str, list[dict[str, Any]]] = {}
    for table, items in _all_items(platform).items():
        for item in items:
            sk = item.get("sk", {}).get("S", "")
            if sk.startswith("OUTBOX#") or item.get("pk", {}).get("S", "").startswith("OUTBOX#"):
                outbox.setdefault(table, []).append(item)
            elif sk.startswith("EVENT#"):
                markers.setdefault(table, []).append(item)

    # Then each service's outbox items have the one key, attributes and TTL
    sources = set()
    for table, items in outbox.items():
        for item in items:
            event_id = item["event_id"]["S"]
            detail = json.loads(item["detail"]["S"])
            where = f"{table}: {item['sk']}"
            assert item["pk"]["S"].startswith("TENANT#"), where
            assert item["sk"]["S"] == f"OUTBOX#{event_id}", where
            assert item["pk"]["S"] == f"TENANT#{detail['metadata']['tenant_id']}", where
            assert detail["metadata"]["event_id"] == event_id, where
            assert item["source"]["S"] == detail["metadata"]["producer"], where
            assert item["detail_type"]["S"], where
            assert abs(int(item["expires_at"]["N"]) - (now + OUTBOX_TTL)) < TTL_SLACK, where
            sources.add(item["source"]["S"])
    assert {"saas.tenant", "saas.product", "saas.order"} <= sources

    # And each consumer's processed markers too
    assert markers, "no processed-event marker found in any table"
    for table, items in markers.items():
        for item in items:
            where = f"{table}: {item['sk']}"
            assert item["pk"]["S"].startswith("TENANT#"), where
            assert item["sk"]["S"] == f"EVENT#{item['event_id']['S']}", where
            assert abs(int(item["expires_at"]["N"]) - (now + MARKER_TTL)) < TTL_SLACK, where
    assert any("order" in table for table in markers), sorted(markers)
    assert any("product" in table for table in markers), sorted(markers)
