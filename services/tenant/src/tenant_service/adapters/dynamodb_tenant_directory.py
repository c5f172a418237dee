"""TenantDirectory on the tenant table: only what the authorizer's decision needs, with nothing
of the Tenant aggregate imported (the authorizer's cold start is on a caller's request)."""

from __future__ import annotations

from typing import Any

from tenant_service.ports.tenant_directory import TenantStanding


class DynamoDBTenantDirectory:
    def __init__(self, client: Any, *, tenant_table: str) -> None:
        self._client = client
        self._table = tenant_table

    def standing(self, tenant_id: str) -> TenantStanding | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"tenant_id": {"S": tenant_id}},
            ProjectionExpression="tenant_id, #s, tier, region_group, usage_key",
            ExpressionAttributeNames={"#s": "status"},
        ).get("Item")
        if not item:
            return None
        return TenantStanding(
            tenant_id=tenant_id,
            status=item["status"]["S"],
            tier=item["tier"]["S"],
            region_group=item["region_group"]["S"],
            usage_key=item.get("usage_key", {}).get("S"),
        )
