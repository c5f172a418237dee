"""Residency: a tenant's region group picks the region that holds its items."""

from __future__ import annotations

import boto3
from moto import mock_aws
from order_testkit import POOLED_TABLE, create_orders_table, scoped_tables, tenant

from order_service.adapters.aws_clients import AwsClients
from order_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from order_service.domain.order import Order, OrderLine
from tenant_context import Cause, RegionGroup, Tier


def place(unit_of_work, ctx):
    with unit_of_work(ctx, Cause()) as uow:
        uow.orders.add(Order.place([OrderLine(product_id="p-1", quantity=1)]))
        uow.commit()


@mock_aws
def test_an_eu_tenants_orders_and_outbox_are_in_eu_west_1_only():
    # Given the pooled table in both regions and an eu tenant and a us tenant
    clients = {r: boto3.client("dynamodb", region_name=r) for r in ("us-east-1", "eu-west-1")}
    for client in clients.values():
        create_orders_table(client)
    built: list[tuple[str, str]] = []

    def build(service, region):
        built.append((service, region))
        return boto3.client(service, region_name=region)

    class CountingClients(AwsClients):
        def client_as(self, service, region, credentials):
            built.append((service, region))
            return super().client_as(service, region, credentials)

    unit_of_work = DynamoDBUnitOfWorkFactory(scoped_tables(aws=CountingClients(build=build)))
    eu = tenant("t-eu", region_group=RegionGroup.EU)
    us = tenant("t-us", region_group=RegionGroup.US)

    # When each places two orders
    for ctx in (eu, us, eu, us):
        place(unit_of_work, ctx)

    # Then every eu item is in eu-west-1 and none in us-east-1, and clients were built once each
    def tenants_in(region):
        items = clients[region].scan(TableName=POOLED_TABLE)["Items"]
        return {item["pk"]["S"] for item in items}

    assert tenants_in("eu-west-1") == {"TENANT#t-eu"}
    assert tenants_in("us-east-1") == {"TENANT#t-us"}
    # (one STS client, then one client scoped to each tenant, in the tenant's region)
    assert sorted(built) == [
        ("dynamodb", "eu-west-1"),
        ("dynamodb", "us-east-1"),
        ("sts", "us-east-1"),
    ]


@mock_aws
def test_a_premium_tenants_orders_are_in_its_own_table_and_the_outbox_in_the_pooled_one():
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_orders_table(client)
    create_orders_table(client, "tenant-t-gold-orders")
    unit_of_work = DynamoDBUnitOfWorkFactory(scoped_tables())
    gold = tenant("t-gold", tier=Tier.PREMIUM)

    place(unit_of_work, gold)

    own = client.scan(TableName="tenant-t-gold-orders")["Items"]
    pooled = client.scan(TableName=POOLED_TABLE)["Items"]
    assert [i["sk"]["S"][:6] for i in own] == ["ORDER#"]
    assert [i["sk"]["S"][:7] for i in pooled] == ["OUTBOX#"]
    assert {i["pk"]["S"] for i in own + pooled} == {"TENANT#t-gold"}
