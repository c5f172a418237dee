"""UnitOfWork on DynamoDB: one TransactWriteItems over the tenant table (the tenant record) and
the service table (users, outbox messages, the processed marker).

Outbox message: pk "TENANT#<tenant_id>", sk "OUTBOX#<event_id>", expires after 24 h (a stream
keeps a record 24 h: after that it can no longer be relayed, and it long has been). Processed
marker: pk "TENANT#<tenant_id>", sk "EVENT#<event_id>", expires after 15 days (SQS keeps a
message 14 days at most: no redelivery comes later). See docs/conventions.md.

A removed user: its item becomes a tombstone (`removed`, no other data) that expires after 24 h
(the longest an ID token of Cognito can live): the authorizer refuses its tokens until then.
The repository's reads skip tombstones; the same username may be created again over one.

With `scoped` (the tenant-serving function) the transaction runs with the client scoped to the
unit of work's tenant: AWS refuses it any key of another tenant (OutsideTheTenant).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn

from botocore.exceptions import ClientError
from pydantic import BaseModel

from tenant_context import Cause, OutboxMessage, TenantContext, outbox_message
from tenant_context.transactions import cancellation_codes, transact_resending_conflicts
from tenant_service.adapters.dynamodb_tenant_repository import (
    item_key,
    s,
    tenant_item,
    user_item,
)
from tenant_service.domain.errors import ConcurrentModification, UserAlreadyExists, UserNotFound
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser
from tenant_service.ports.tenant_scoped_clients import TenantScopedClients
from tenant_service.ports.unit_of_work import EventAlreadyProcessed

SOURCE = "saas.tenant"
OUTBOX_TTL_SECONDS = 24 * 3600
MARKER_TTL_SECONDS = 15 * 24 * 3600
REMOVED_USER_TTL_SECONDS = 24 * 3600
_LIVE_USER = "attribute_exists(pk) AND attribute_not_exists(removed)"


def removed_user_item(user: TenantUser, now: float) -> dict[str, Any]:
    return {
        **item_key(user.tenant_id, f"USER#{user.username}"),
        "username": s(user.username),
        "removed": {"BOOL": True},
        "expires_at": {"N": str(int(now) + REMOVED_USER_TTL_SECONDS)},
    }


def outbox_item(tenant_id: str, message: OutboxMessage, now: float) -> dict[str, Any]:
    return {
        **item_key(tenant_id, f"OUTBOX#{message.event_id}"),
        "event_id": s(message.event_id),
        "source": s(message.source),
        "detail_type": s(message.detail_type),
        "detail": s(json.dumps(message.detail, separators=(",", ":"))),
        "expires_at": {"N": str(int(now) + OUTBOX_TTL_SECONDS)},
    }


def marker_item(tenant_id: str, event_id: str, now: float) -> dict[str, Any]:
    return {
        **item_key(tenant_id, f"EVENT#{event_id}"),
        "event_id": s(event_id),
        "expires_at": {"N": str(int(now) + MARKER_TTL_SECONDS)},
    }


class _Changes:
    """What a unit of work stages: each write with the error its failed condition means."""

    def __init__(self) -> None:
        self.writes: list[tuple[dict[str, Any], Exception]] = []


class _TenantChanges:
    def __init__(self, changes: _Changes, table: str) -> None:
        self._changes = changes
        self._table = table

    def add(self, tenant: Tenant) -> None:
        put = {
            "TableName": self._table,
            "Item": tenant_item(tenant),
            "ConditionExpression": "attribute_not_exists(tenant_id)",
        }
        self._changes.writes.append(({"Put": put}, ConcurrentModification(tenant.id)))

    def save(self, tenant: Tenant) -> None:
        put = {
            "TableName": self._table,
            "Item": tenant_item(tenant),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(tenant.version - 1)}},
        }
        self._changes.writes.append(({"Put": put}, ConcurrentModification(tenant.id)))


class _UserChanges:
    def __init__(self, changes: _Changes, table: str) -> None:
        self._changes = changes
        self._table = table

    def add(self, user: TenantUser) -> None:
        put = {
            "TableName": self._table,
            "Item": user_item(user),
            "ConditionExpression": "attribute_not_exists(pk) OR removed = :removed",
            "ExpressionAttributeValues": {":removed": {"BOOL": True}},
        }
        self._changes.writes.append(({"Put": put}, UserAlreadyExists(user.email)))

    def save(self, user: TenantUser) -> None:
        put = {
            "TableName": self._table,
            "Item": user_item(user),
            "ConditionExpression": _LIVE_USER,
        }
        self._changes.writes.append(({"Put": put}, UserNotFound(user.username)))

    def remove(self, user: TenantUser) -> None:
        tombstone = {
            "TableName": self._table,
            "Item": removed_user_item(user, time.time()),
            "ConditionExpression": _LIVE_USER,
        }
        self._changes.writes.append(({"Put": tombstone}, UserNotFound(user.username)))


class DynamoDBUnitOfWork:
    def __init__(
        self,
        client: Any,
        *,
        tenant_table: str,
        service_table: str,
        ctx: TenantContext,
        cause: Cause,
        sleep: Callable[[float], None] = time.sleep,
        scoped: TenantScopedClients | None = None,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._scoped = scoped
        self._service_table = service_table
        self._ctx = ctx
        self._cause = cause
        self._changes = _Changes()
        self._messages: list[OutboxMessage] = []
        self.tenants = _TenantChanges(self._changes, tenant_table)
        self.users = _UserChanges(self._changes, service_table)

    def emit(self, event: BaseModel) -> None:
        self._messages.append(outbox_message(self._ctx, event, source=SOURCE, cause=self._cause))

    def commit(self) -> None:
        now = time.time()
        tenant_id = self._ctx.tenant_id
        writes = list(self._changes.writes)
        for message in self._messages:
            put = {
                "TableName": self._service_table,
                "Item": outbox_item(tenant_id, message, now),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            writes.append(({"Put": put}, ConcurrentModification(tenant_id)))
        if self._cause.event_id:
            put = {
                "TableName": self._service_table,
                "Item": marker_item(tenant_id, self._cause.event_id, now),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            writes.append(({"Put": put}, EventAlreadyProcessed(self._cause.event_id)))
        if writes:
            self._transact(writes)
        self._discard()

    def _transact(self, writes: list[tuple[dict[str, Any], Exception]]) -> None:
        client = (
            self._client if self._scoped is None else self._scoped.dynamodb(self._ctx.tenant_id)
        )
        try:
            transact_resending_conflicts(
                lambda: client.transact_write_items(TransactItems=[w for w, _ in writes]),
                sleep=self._sleep,
            )
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes is None:
                raise
            self._refused(writes, codes)

    def _refused(
        self, writes: list[tuple[dict[str, Any], Exception]], codes: list[Any]
    ) -> NoReturn:
        failed = [
            error
            for (_, error), code in zip(writes, codes, strict=False)
            if code == "ConditionalCheckFailed"
        ]
        # A duplicate event first: its marker says why everything else failed too.
        failed.sort(key=lambda e: not isinstance(e, EventAlreadyProcessed))
        raise (failed[0] if failed else ConcurrentModification(self._ctx.tenant_id)) from None

    def _discard(self) -> None:
        self._changes.writes.clear()
        self._messages.clear()

    def __enter__(self) -> DynamoDBUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._discard()


class DynamoDBUnitOfWorkFactory:
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
        self._tenant_table = tenant_table
        self._service_table = service_table

    def __call__(self, ctx: TenantContext, cause: Cause) -> DynamoDBUnitOfWork:
        return DynamoDBUnitOfWork(
            self._client,
            tenant_table=self._tenant_table,
            service_table=self._service_table,
            ctx=ctx,
            cause=cause,
            scoped=self._scoped,
        )
