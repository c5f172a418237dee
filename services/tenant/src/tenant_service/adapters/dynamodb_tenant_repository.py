"""TenantRepository on DynamoDB: the reads (writes: dynamodb_unit_of_work.py).

The tenant record lives in the platform's `saas-tenants` table (key tenant_id), which the
provisioner reads through its stream. This service's own table (pk, sk) holds, so they never
reach that stream: outbox items (pk "TENANT#<id>", sk "OUTBOX#<event_id>", published by the
outbox relay on this table's stream), tenant users (pk "TENANT#<id>", sk "USER#<username>"; a
removed user's is a tombstone, `removed`, which these reads skip) and processed-event markers
(pk "TENANT#<id>", sk "EVENT#<event_id>").

Every key leads with the tenant id (the tenant record's is the id itself, the service table's
`TENANT#<id>`), so the tenant-access role's `dynamodb:LeadingKeys` condition can hold a scoped
session to its tenant's items. With `scoped` (the tenant-serving function), each tenant's items
are reached through that tenant's scoped client; without it (the control plane), through the
function's own client, whose role may touch every tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tenant_service.adapters import page_token
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.tenant_repository import Page
from tenant_service.ports.tenant_scoped_clients import TenantScopedClients


def s(value: str) -> dict[str, str]:
    return {"S": value}


def tenant_key(tenant_id: str) -> dict[str, Any]:
    """The tenant record's key in the tenant directory."""
    return {"tenant_id": s(tenant_id)}


def tenant_pk(tenant_id: str) -> str:
    """The partition of the tenant's items in the service table."""
    return f"TENANT#{tenant_id}"


def item_key(tenant_id: str, sk: str) -> dict[str, Any]:
    """The key of one of the tenant's items in the service table."""
    return {"pk": s(tenant_pk(tenant_id)), "sk": s(sk)}


def tenant_item(tenant: Tenant) -> dict[str, Any]:
    item: dict[str, Any] = {
        "tenant_id": s(tenant.id),
        "name": s(tenant.name),
        "tier": s(tenant.tier.value),
        "region_group": s(tenant.region_group.value),
        "status": s(tenant.status.value),
        "config": {"M": {k: s(v) for k, v in tenant.config.items()}},
        "admin_email": s(tenant.admin_email),
        "created_at": s(tenant.created_at.isoformat()),
        "updated_at": s(tenant.updated_at.isoformat()),
        "version": {"N": str(tenant.version)},
    }
    if tenant.status_reason:
        item["status_reason"] = s(tenant.status_reason)
    if tenant.usage_key:
        item["usage_key"] = s(tenant.usage_key)
    return item


def _tenant(item: dict[str, Any]) -> Tenant:
    return Tenant(
        id=item["tenant_id"]["S"],
        name=item["name"]["S"],
        tier=Tier(item["tier"]["S"]),
        region_group=RegionGroup(item["region_group"]["S"]),
        status=TenantStatus(item["status"]["S"]),
        status_reason=item.get("status_reason", {}).get("S"),
        config={k: v["S"] for k, v in item.get("config", {}).get("M", {}).items()},
        admin_email=item["admin_email"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
        version=int(item["version"]["N"]),
        usage_key=item.get("usage_key", {}).get("S"),
    )


def user_item(user: TenantUser) -> dict[str, Any]:
    return {
        **item_key(user.tenant_id, f"USER#{user.username}"),
        "username": s(user.username),
        "email": s(user.email),
        "role": s(user.role.value),
        "created_at": s(user.created_at.isoformat()),
        "enabled": {"BOOL": user.enabled},
    }


def _user(tenant_id: str, item: dict[str, Any]) -> TenantUser:
    return TenantUser(
        tenant_id=tenant_id,
        username=item["username"]["S"],
        email=item["email"]["S"],
        role=UserRole(item["role"]["S"]),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        # Users recorded before users could be disabled have no flag: they are enabled.
        enabled=item.get("enabled", {}).get("BOOL", True),
    )


class DynamoDBTenantRepository:
    def __init__(
        self,
        client: Any,
        *,
        tenant_table: str,
        service_table: str,
        scoped: TenantScopedClients | None = None,
    ) -> None:
        self._client = client
        self._scoped = scoped
        self._tenants = tenant_table
        self._service = service_table

    def _of(self, tenant_id: str) -> Any:
        """The client that reaches this tenant's items."""
        return self._client if self._scoped is None else self._scoped.dynamodb(tenant_id)

    # reads
    def get(self, tenant_id: str) -> Tenant | None:
        item = (
            self._of(tenant_id)
            .get_item(TableName=self._tenants, Key=tenant_key(tenant_id), ConsistentRead=True)
            .get("Item")
        )
        return _tenant(item) if item else None

    def list(self, *, limit: int, next_token: str | None) -> Page[Tenant]:
        start = page_token.decode(next_token, fields=("tenant_id",))
        request: dict[str, Any] = {"TableName": self._tenants, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = {"tenant_id": s(start["tenant_id"])}
        answer = self._client.scan(**request)
        last = answer.get("LastEvaluatedKey")
        return Page(
            items=[_tenant(i) for i in answer.get("Items", [])],
            next_token=page_token.encode({"tenant_id": last["tenant_id"]["S"]} if last else None),
        )

    def was_processed(self, tenant_id: str, event_id: str) -> bool:
        item = (
            self._of(tenant_id)
            .get_item(
                TableName=self._service,
                Key=item_key(tenant_id, f"EVENT#{event_id}"),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return item is not None

    def user(self, tenant_id: str, username: str) -> TenantUser | None:
        item = (
            self._of(tenant_id)
            .get_item(
                TableName=self._service,
                Key=item_key(tenant_id, f"USER#{username}"),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return _user(tenant_id, item) if item and "removed" not in item else None

    def user_by_email(self, tenant_id: str, email: str) -> TenantUser | None:
        # A tenant's users are one partition; the email filter reads it, which is fine at the
        # size of a tenant's staff.
        request: dict[str, Any] = {
            "TableName": self._service,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :user)",
            "FilterExpression": "email = :email AND attribute_not_exists(removed)",
            "ExpressionAttributeValues": {
                ":pk": s(tenant_pk(tenant_id)),
                ":user": s("USER#"),
                ":email": s(email),
            },
        }
        client = self._of(tenant_id)
        while True:
            answer = client.query(**request)
            if answer.get("Items"):
                return _user(tenant_id, answer["Items"][0])
            if "LastEvaluatedKey" not in answer:
                return None
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def list_users(self, tenant_id: str, *, limit: int, next_token: str | None) -> Page[TenantUser]:
        start = page_token.decode(next_token, fields=("username",))
        request: dict[str, Any] = {
            "TableName": self._service,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :user)",
            "ExpressionAttributeValues": {":pk": s(tenant_pk(tenant_id)), ":user": s("USER#")},
            # A page may come back shorter than `limit` (tombstones are read, then dropped).
            "FilterExpression": "attribute_not_exists(removed)",
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = item_key(tenant_id, f"USER#{start['username']}")
        answer = self._of(tenant_id).query(**request)
        last = answer.get("LastEvaluatedKey")
        token = page_token.encode({"username": last["sk"]["S"][5:]} if last else None)
        return Page(items=[_user(tenant_id, i) for i in answer.get("Items", [])], next_token=token)
