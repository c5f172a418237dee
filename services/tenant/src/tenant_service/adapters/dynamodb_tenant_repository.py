"""TenantRepository on DynamoDB.

The tenant record lives in the platform's `saas-tenants` table (key tenant_id), which the
provisioner reads through its stream. This service's own table (pk, sk) holds, so they never
reach that stream: outbox items (pk "OUTBOX#<event_id>", published by the relay on this table's
stream and expired by TTL), tenant users (pk "TENANT#<id>", sk "USER#<username>") and
processed-event markers (pk "TENANT#<id>", sk "EVENT#<event_id>"). A state change, its outbox
events, its marker and its user go in one TransactWriteItems.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tenant_service.adapters import page_token
from tenant_service.domain.errors import ConcurrentModification, UserAlreadyExists
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.tenant_directory import TenantStanding
from tenant_service.ports.tenant_repository import OutboxEvent, Page

SOURCE = "saas.tenant"
OUTBOX_RETENTION = timedelta(days=7)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _tenant_item(tenant: Tenant) -> dict[str, Any]:
    item: dict[str, Any] = {
        "tenant_id": _s(tenant.id),
        "name": _s(tenant.name),
        "tier": _s(tenant.tier.value),
        "region_group": _s(tenant.region_group.value),
        "status": _s(tenant.status.value),
        "config": {"M": {k: _s(v) for k, v in tenant.config.items()}},
        "admin_email": _s(tenant.admin_email),
        "created_at": _s(tenant.created_at.isoformat()),
        "updated_at": _s(tenant.updated_at.isoformat()),
        "version": {"N": str(tenant.version)},
    }
    if tenant.status_reason:
        item["status_reason"] = _s(tenant.status_reason)
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
    )


def _user_item(user: TenantUser) -> dict[str, Any]:
    return {
        "pk": _s(f"TENANT#{user.tenant_id}"),
        "sk": _s(f"USER#{user.username}"),
        "username": _s(user.username),
        "email": _s(user.email),
        "role": _s(user.role.value),
        "created_at": _s(user.created_at.isoformat()),
    }


def _user(tenant_id: str, item: dict[str, Any]) -> TenantUser:
    return TenantUser(
        tenant_id=tenant_id,
        username=item["username"]["S"],
        email=item["email"]["S"],
        role=UserRole(item["role"]["S"]),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
    )


class DynamoDbTenantRepository:
    def __init__(self, client: Any, *, tenant_table: str, service_table: str) -> None:
        self._client = client
        self._tenants = tenant_table
        self._service = service_table

    # reads
    def get(self, tenant_id: str) -> Tenant | None:
        item = self._client.get_item(
            TableName=self._tenants, Key={"tenant_id": _s(tenant_id)}, ConsistentRead=True
        ).get("Item")
        return _tenant(item) if item else None

    def standing(self, tenant_id: str) -> TenantStanding | None:
        """Also the authorizer's TenantDirectory: only what a decision needs."""
        item = self._client.get_item(
            TableName=self._tenants,
            Key={"tenant_id": _s(tenant_id)},
            ProjectionExpression="tenant_id, #s, tier, region_group",
            ExpressionAttributeNames={"#s": "status"},
        ).get("Item")
        if not item:
            return None
        return TenantStanding(
            tenant_id=tenant_id,
            status=item["status"]["S"],
            tier=item["tier"]["S"],
            region_group=item["region_group"]["S"],
        )

    def list(self, *, limit: int, next_token: str | None) -> Page[Tenant]:
        start = page_token.decode(next_token, fields=("tenant_id",))
        request: dict[str, Any] = {"TableName": self._tenants, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = {"tenant_id": _s(start["tenant_id"])}
        answer = self._client.scan(**request)
        last = answer.get("LastEvaluatedKey")
        return Page(
            items=[_tenant(i) for i in answer.get("Items", [])],
            next_token=page_token.encode({"tenant_id": last["tenant_id"]["S"]} if last else None),
        )

    def was_processed(self, tenant_id: str, event_id: str) -> bool:
        item = self._client.get_item(
            TableName=self._service,
            Key={"pk": _s(f"TENANT#{tenant_id}"), "sk": _s(f"EVENT#{event_id}")},
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def user_by_email(self, tenant_id: str, email: str) -> TenantUser | None:
        # A tenant's users are one partition; the email filter reads it, which is fine at the
        # size of a tenant's staff.
        request: dict[str, Any] = {
            "TableName": self._service,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :user)",
            "FilterExpression": "email = :email",
            "ExpressionAttributeValues": {
                ":pk": _s(f"TENANT#{tenant_id}"),
                ":user": _s("USER#"),
                ":email": _s(email),
            },
        }
        while True:
            answer = self._client.query(**request)
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
            "ExpressionAttributeValues": {":pk": _s(f"TENANT#{tenant_id}"), ":user": _s("USER#")},
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = {
                "pk": _s(f"TENANT#{tenant_id}"),
                "sk": _s(f"USER#{start['username']}"),
            }
        answer = self._client.query(**request)
        last = answer.get("LastEvaluatedKey")
        token = page_token.encode({"username": last["sk"]["S"][5:]} if last else None)
        return Page(items=[_user(tenant_id, i) for i in answer.get("Items", [])], next_token=token)

    # writes: one transaction each
    def add(self, tenant: Tenant, events: Sequence[OutboxEvent]) -> None:
        put = {
            "Put": {
                "TableName": self._tenants,
                "Item": _tenant_item(tenant),
                "ConditionExpression": "attribute_not_exists(tenant_id)",
            }
        }
        self._transact([put, *self._outbox(events)], tenant.id)

    def save(
        self,
        tenant: Tenant,
        events: Sequence[OutboxEvent],
        *,
        processed_event_id: str | None = None,
        new_user: TenantUser | None = None,
    ) -> None:
        items: builtins.list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._tenants,
                    "Item": _tenant_item(tenant),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(tenant.version - 1)}},
                }
            },
            *self._outbox(events),
        ]
        if processed_event_id:
            items.append(self._marker(tenant.id, processed_event_id))
        if new_user:
            items.append(self._new_user(new_user))
        self._transact(items, tenant.id)

    def mark_processed(self, tenant_id: str, event_id: str) -> None:
        self._transact([self._marker(tenant_id, event_id)], tenant_id)

    def add_user(self, user: TenantUser, events: Sequence[OutboxEvent]) -> None:
        try:
            self._client.transact_write_items(
                TransactItems=[self._new_user(user), *self._outbox(events)]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise UserAlreadyExists(user.email) from None
            raise

    def _transact(self, items: builtins.list[dict[str, Any]], tenant_id: str) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentModification(tenant_id) from None
            raise

    def _marker(self, tenant_id: str, event_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._service,
                "Item": {
                    "pk": _s(f"TENANT#{tenant_id}"),
                    "sk": _s(f"EVENT#{event_id}"),
                    "processed_at": _s(datetime.now(UTC).isoformat()),
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _new_user(self, user: TenantUser) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._service,
                "Item": _user_item(user),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _outbox(self, events: Sequence[OutboxEvent]) -> builtins.list[dict[str, Any]]:
        expires = int((datetime.now(UTC) + OUTBOX_RETENTION).timestamp())
        return [
            {
                "Put": {
                    "TableName": self._service,
                    "Item": {
                        "pk": _s(f"OUTBOX#{e.event_id}"),
                        "sk": _s("OUTBOX"),
                        "source": _s(SOURCE),
                        "detail_type": _s(e.detail_type),
                        "detail": _s(json.dumps(e.detail)),
                        "expires_at": {"N": str(expires)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for e in events
        ]
