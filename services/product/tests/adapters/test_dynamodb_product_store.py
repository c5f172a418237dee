"""Where the DynamoDB store puts a tenant's data: its region, its tier's table, its key."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from product_service.adapters.aws_clients import AwsClients
from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.adapters.dynamodb_unit_of_work import MARKER_TTL_SECONDS, OUTBOX_TTL_SECONDS
from product_service.domain.errors import ProductNotFound
from product_service.domain.events import ProductDeleted
from product_service.domain.model import OrderLine
from tenant_context import Cause, RegionGroup, TenantContext, Tier

from .. import conftest  # noqa: TID252  (the suite's own fixtures module)


def _all_items(region: str, table: str = conftest.POOLED_TABLE) -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name=region).scan(TableName=table)["Items"]


def test_an_eu_tenants_product_is_only_in_eu_west_1(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    eu = make_tenant(region_group=RegionGroup.EU)

    product = conftest.catalogue(dynamodb_store).create(
        eu, name="Käse", sku="K-1", price=Decimal("4.20"), stock=3
    )

    eu_keys = {item["sk"]["S"] for item in _all_items("eu-west-1")}
    assert f"PRODUCT#{product.id}" in eu_keys
    assert any(key.startswith("OUTBOX#") for key in eu_keys)  # its event too
    assert _all_items("us-east-1") == []


def test_every_key_is_led_by_the_tenant_id(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    who = make_tenant()
    product = conftest.catalogue(dynamodb_store).create(
        who, name="Mug", sku="M", price=Decimal("1.00"), stock=2
    )
    conftest.stock_keeper(dynamodb_store).reserve(
        who, Cause(correlation_id="c-1", event_id="e-1"), "o-1", [OrderLine(product.id, 1)]
    )

    items = _all_items("us-east-1")

    assert {item["pk"]["S"] for item in items} == {f"TENANT#{who.tenant_id}"}
    assert {item["sk"]["S"].split("#")[0] for item in items} == {
        "PRODUCT",
        "RESERVATION",
        "EVENT",
        "OUTBOX",
    }


def test_a_premium_tenant_uses_its_own_table_and_the_pooled_outbox(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    premium = make_tenant(tier=Tier.PREMIUM)
    own_table = f"tenant-{premium.tenant_id}-products"
    conftest.create_products_table(boto3.client("dynamodb", region_name="us-east-1"), own_table)

    product = conftest.catalogue(dynamodb_store).create(
        premium, name="Mug", sku="M", price=Decimal("1.00"), stock=2
    )

    assert [i["sk"]["S"] for i in _all_items("us-east-1", own_table)] == [f"PRODUCT#{product.id}"]
    pooled = _all_items("us-east-1")
    assert [i["sk"]["S"].split("#")[0] for i in pooled] == ["OUTBOX"]


def test_the_outbox_item_carries_the_event_for_the_relay(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    who = make_tenant()

    product = conftest.catalogue(dynamodb_store).create(
        who, name="Mug", sku="M", price=Decimal("1.00"), stock=2
    )

    (outbox,) = [i for i in _all_items("us-east-1") if i["sk"]["S"].startswith("OUTBOX#")]
    assert outbox["source"]["S"] == "saas.product"
    assert outbox["detail_type"]["S"] == "ProductCreated"
    assert f'"product_id":"{product.id}"' in outbox["detail"]["S"]
    assert outbox["sk"]["S"] == f"OUTBOX#{outbox['event_id']['S']}"


def test_clients_are_built_once_per_region(aws: None) -> None:
    clients = AwsClients(conftest.REGION_MAP)

    first = clients.client("dynamodb", "eu-west-1")

    assert clients.client("dynamodb", "eu-west-1") is first
    assert clients.client("dynamodb", "us-east-1") is not first
    assert first.meta.region_name == "eu-west-1"


def test_a_premium_reservation_is_one_transaction_across_its_table_and_the_pooled_outbox(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    premium = make_tenant(tier=Tier.PREMIUM, region_group=RegionGroup.EU)
    own_table = f"tenant-{premium.tenant_id}-products"
    conftest.create_products_table(boto3.client("dynamodb", region_name="eu-west-1"), own_table)
    product = conftest.catalogue(dynamodb_store).create(
        premium, name="Mug", sku="M", price=Decimal("1.00"), stock=2
    )

    conftest.stock_keeper(dynamodb_store).reserve(
        premium, Cause(correlation_id="c-1", event_id="e-1"), "o-1", [OrderLine(product.id, 2)]
    )

    own = {i["sk"]["S"].split("#")[0] for i in _all_items("eu-west-1", own_table)}
    pooled = [i["detail_type"]["S"] for i in _all_items("eu-west-1")]
    assert own == {"PRODUCT", "RESERVATION", "EVENT"}
    assert sorted(pooled) == ["ProductCreated", "StockReserved"]
    assert dynamodb_store.stock_of(premium, [product.id]) == {product.id: 0}
    assert _all_items("us-east-1") == []


def test_the_outbox_item_and_the_marker_follow_the_convention(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    # docs/conventions.md: outbox pk TENANT#, sk OUTBOX#<event id>, event_id, source,
    # detail_type, detail (S), TTL 24 h; marker pk TENANT#, sk EVENT#<event id>, event_id, 15 days
    who = make_tenant()
    product = conftest.catalogue(dynamodb_store).create(
        who, name="Mug", sku="M", price=Decimal("1.00"), stock=2
    )
    before = int(time.time())

    conftest.stock_keeper(dynamodb_store).reserve(
        who, Cause(correlation_id="c-1", event_id="e-1"), "o-1", [OrderLine(product.id, 1)]
    )

    after = int(time.time())
    items = _all_items("us-east-1")
    (marker,) = [i for i in items if i["sk"]["S"].startswith("EVENT#")]
    assert set(marker) == {"pk", "sk", "event_id", "expires_at"}
    assert (marker["pk"]["S"], marker["sk"]["S"]) == (f"TENANT#{who.tenant_id}", "EVENT#e-1")
    assert marker["event_id"] == {"S": "e-1"}
    assert before + 15 * 86400 <= int(marker["expires_at"]["N"]) <= after + 15 * 86400
    (reserved,) = [i for i in items if i.get("detail_type", {}).get("S") == "StockReserved"]
    assert set(reserved) == {
        "pk",
        "sk",
        "event_id",
        "source",
        "detail_type",
        "detail",
        "expires_at",
    }
    assert reserved["sk"]["S"] == f"OUTBOX#{reserved['event_id']['S']}"
    assert json.loads(reserved["detail"]["S"])["metadata"]["causation_id"] == "e-1"
    assert before + 86400 <= int(reserved["expires_at"]["N"]) <= after + 86400
    assert (OUTBOX_TTL_SECONDS, MARKER_TTL_SECONDS) == (24 * 3600, 15 * 24 * 3600)


def test_a_write_of_a_missing_product_is_not_found_and_writes_nothing(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    who = make_tenant()
    uow = conftest.uow_for(dynamodb_store)

    with uow(who, Cause()) as work:
        work.products.delete("ghost")
        work.emit(ProductDeleted(product_id="ghost"))
        with pytest.raises(ProductNotFound, match="ghost"):
            work.commit()

    assert _all_items("us-east-1") == []
