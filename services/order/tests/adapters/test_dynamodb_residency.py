"""Residency: a tenant's region group picks the region that holds its items."""

from __future__ import annotations

import boto3
from moto import mock_aws
from order_testkit import POOLED_TABLE, REGION_MAP, create_orders_table, tenant

from order_service.adapters.dynamodb_order_repository import DynamoDBOrderRepository
from order_service.adapters.dynamodb_tables import RegionalTables
from order_service.domain.order import Order, OrderLine
from order_service.ports.outbox import OutboxMessage
from tenant_context import RegionGroup, Tier


@mock_aws
def test_an_eu_tenants_orders_and_outbox_are_in_eu_west_1_only():
    # Given the pooled table in both regions and an eu tenant and a us tenant
    clients = {r: boto3.client("dynamodb", region_name=r) for r in ("us-east-1", "eu-west-1")}
    for client in clients.values():
        create_orders_table(client)
    built: list[str] = []

    def factory(region):
        built.append(region)
        return boto3.client("dynamodb", region_name=region)

    repository = DynamoDBOrderRepository(
        RegionalTables(pooled_table=POOLED_TABLE, region_map=REGION_MAP, client_factory=factory)
    )
    eu = tenant("t-eu", region_group=RegionGroup.EU)
    us = tenant("t-us", region_group=RegionGroup.US)
    placed = OutboxMessage("e-1", "saas.order", "OrderPlaced", {"metadata": {}, "data": {}})

    # When each places two orders
    for ctx in (eu, us, eu, us):
        order = Order.place([OrderLine(product_id="p-1", quantity=1)])
        repository.add(ctx, order, [placed])

    # Then every eu item is in eu-west-1 and none in us-east-1, and clients were built once each
    def tenants_in(region):
        items = clients[region].scan(TableName=POOLED_TABLE)["Items"]
        return {item["pk"]["S"] for item in items}

    assert tenants_in("eu-west-1") == {"TENANT#t-eu"}
    assert tenants_in("us-east-1") == {"TENANT#t-us"}
    assert sorted(built) == ["eu-west-1", "us-east-1"]


@mock_aws
def test_a_premium_tenants_orders_are_in_its_own_table_and_the_outbox_in_the_pooled_one():
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_orders_table(client)
    create_orders_table(client, "tenant-t-gold-orders")
    repository = DynamoDBOrderRepository(
        RegionalTables(
            pooled_table=POOLED_TABLE,
            region_map=REGION_MAP,
            client_factory=lambda r: boto3.client("dynamodb", region_name=r),
        )
    )
    gold = tenant("t-gold", tier=Tier.PREMIUM)
    placed = OutboxMessage("e-1", "saas.order", "OrderPlaced", {"metadata": {}, "data": {}})

    repository.add(gold, Order.place([OrderLine(product_id="p-1", quantity=1)]), [placed])

    own = client.scan(TableName="tenant-t-gold-orders")["Items"]
    pooled = client.scan(TableName=POOLED_TABLE)["Items"]
    assert [i["sk"]["S"][:6] for i in own] == ["ORDER#"]
    assert [i["sk"]["S"] for i in pooled] == ["OUTBOX#e-1"]
    assert {i["pk"]["S"] for i in own + pooled} == {"TENANT#t-gold"}
