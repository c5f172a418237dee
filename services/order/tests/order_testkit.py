"""Test helpers of the order service: tenant contexts, and DynamoDB tables as the template
defines them (for tests against moto)."""

from __future__ import annotations

from typing import Any

from tenant_context import RegionGroup, Role, TenantContext, Tier

POOLED_TABLE = "saas-orders"
REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}


def create_orders_table(client: Any, name: str = POOLED_TABLE) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def all_items(client: Any, table: str) -> list[dict[str, Any]]:
    return client.scan(TableName=table)["Items"]


def tenant(
    tenant_id: str = "t-acme",
    *,
    tier: Tier = Tier.BASIC,
    region_group: RegionGroup = RegionGroup.US,
    role: Role = Role.TENANT_USER,
) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id, role=role, user_id="u-1", tier=tier, region_group=region_group
    )
