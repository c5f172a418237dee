"""The tenant service's directory table (`saas-tenants`, key `tenant_id`), read for one item's
key only: whether the tenant exists. With `scoped` (the tenant-serving function) the record is
read with the client scoped to that tenant, which AWS lets read that one record alone (the
directory's key is the tenant id itself); a key of another tenant raises OutsideTheTenant."""

from __future__ import annotations

from typing import Any

from metering_service.ports.tenant_scoped_clients import TenantScopedClients


def tenant_key(tenant_id: str) -> dict[str, Any]:
    """The tenant's record: what the tenant-access role's `dynamodb:LeadingKeys` allows."""
    return {"tenant_id": {"S": tenant_id}}


class DynamoDBTenantDirectory:
    def __init__(
        self, client: Any, table_name: str, *, scoped: TenantScopedClients | None = None
    ) -> None:
        self._client = client
        self._table = table_name
        self._scoped = scoped

    def exists(self, tenant_id: str) -> bool:
        client = self._client if self._scoped is None else self._scoped.dynamodb(tenant_id)
        answer = client.get_item(
            TableName=self._table,
            Key=tenant_key(tenant_id),
            ProjectionExpression="tenant_id",
        )
        return "Item" in answer
