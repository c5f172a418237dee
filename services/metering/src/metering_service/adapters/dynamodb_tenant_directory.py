"""The tenant service's directory table (`saas-tenants`, key `tenant_id`), read for one item's
key only: whether the tenant exists."""

from __future__ import annotations

from typing import Any


class DynamoDBTenantDirectory:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def exists(self, tenant_id: str) -> bool:
        answer = self._client.get_item(
            TableName=self._table,
            Key={"tenant_id": {"S": tenant_id}},
            ProjectionExpression="tenant_id",
        )
        return "Item" in answer
