"""TenantDirectory and UserDirectory on the tenant tables: only what the authorizer's decision
needs, with nothing of the aggregates imported (the authorizer's cold start is on a caller's
request)."""

from __future__ import annotations

from typing import Any

from tenant_service.ports.tenant_directory import TenantStanding, UserStanding


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


class DynamoDBUserDirectory:
    """The token's user on the service table (pk "TENANT#<id>", sk "USER#<username>"): one
    GetItem of two attributes. A removed user's item is a tombstone (`removed`) until every ID
    token it could hold has expired (dynamodb_unit_of_work.py)."""

    def __init__(self, client: Any, *, service_table: str) -> None:
        self._client = client
        self._table = service_table

    def user_standing(self, tenant_id: str, username: str) -> UserStanding | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": f"USER#{username}"}},
            ProjectionExpression="enabled, removed",
        ).get("Item")
        if item is None:
            return None
        if item.get("removed", {}).get("BOOL", False):
            state = "removed"
        else:
            # Users recorded before users could be disabled have no flag: they are enabled.
            state = "enabled" if item.get("enabled", {}).get("BOOL", True) else "disabled"
        return UserStanding(tenant_id=tenant_id, username=username, state=state)
