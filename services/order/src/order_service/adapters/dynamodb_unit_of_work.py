"""The unit of work on DynamoDB: a commit is one TransactWriteItems.

The orders (conditional on the version read, or on not existing) and the processed marker go
to the tenant's data table; the outbox items to the pooled table of the same region, whose
stream feeds the outbox relay. Items as docs/conventions.md's table says:

  outbox message    pk TENANT#<tenant_id>, sk OUTBOX#<event_id>: event_id, source, detail_type,
                    detail (the envelope as JSON), expires_at = now + OUTBOX_TTL_SECONDS
  processed marker  pk TENANT#<tenant_id>, sk EVENT#<event_id>: event_id,
                    expires_at = now + MARKER_TTL_SECONDS
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, NoReturn

from order_service.adapters.dynamodb_order_repository import (
    item_key,
    order_from_item,
    order_item,
)
from order_service.adapters.dynamodb_tables import RegionalTables
from order_service.adapters.tracking_unit_of_work import Changes, TrackingUnitOfWork
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order
from tenant_context import Cause, OutboxMessage, TenantContext
from tenant_context.transactions import cancellation_codes, transact_resending_conflicts

# A DynamoDB stream keeps a record 24 h: past that an outbox item can no longer be relayed, and
# it was published long before.
OUTBOX_TTL_SECONDS = 24 * 3600
# SQS keeps a message at most 14 days, so no redelivery comes later; one day of margin.
MARKER_TTL_SECONDS = 15 * 24 * 3600


class DynamoDBUnitOfWork(TrackingUnitOfWork):
    def __init__(
        self,
        tables: RegionalTables,
        ctx: TenantContext,
        cause: Cause,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(ctx, cause)
        self._tables = tables
        self._clock = clock
        self._sleep = sleep

    def _load(self, order_id: str) -> Order | None:
        response = self._tables.client(self.ctx).get_item(
            TableName=self._tables.data_table(self.ctx),
            Key=item_key(self.ctx, f"ORDER#{order_id}"),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return order_from_item(item) if item else None

    def _write(self, changes: Changes) -> None:
        table = self._tables.data_table(self.ctx)
        items: list[dict[str, Any]] = []
        marker_index = None
        if changes.processed_event_id is not None:
            marker_index = len(items)
            items.append(self._marker_put(table, changes.processed_event_id))
        items += [
            {
                "Put": {
                    "TableName": table,
                    "Item": order_item(self.ctx, order, version=1),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for order in changes.added
        ]
        items += [
            {
                "Put": {
                    "TableName": table,
                    "Item": order_item(self.ctx, order, version=order.version + 1),
                    "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": {"N": str(order.version)}},
                }
            }
            for order in changes.changed
        ]
        items += [self._outbox_put(message) for message in changes.outbox]
        self._transact(items, marker_index=marker_index)

    def _marker_put(self, table: str, event_id: str) -> dict[str, Any]:
        item = {
            **item_key(self.ctx, f"EVENT#{event_id}"),
            "event_id": {"S": event_id},
            "expires_at": {"N": str(int(self._clock()) + MARKER_TTL_SECONDS)},
        }
        return {
            "Put": {
                "TableName": table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _outbox_put(self, message: OutboxMessage) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._tables.pooled_table,
                "Item": {
                    **item_key(self.ctx, f"OUTBOX#{message.event_id}"),
                    "event_id": {"S": message.event_id},
                    "source": {"S": message.source},
                    "detail_type": {"S": message.detail_type},
                    "detail": {"S": json.dumps(message.detail, separators=(",", ":"))},
                    "expires_at": {"N": str(int(self._clock()) + OUTBOX_TTL_SECONDS)},
                },
            }
        }

    def _transact(self, items: list[dict[str, Any]], *, marker_index: int | None) -> None:
        client = self._tables.client(self.ctx)
        try:
            transact_resending_conflicts(
                lambda: client.transact_write_items(TransactItems=items), sleep=self._sleep
            )
        except client.exceptions.TransactionCanceledException as exc:
            self._refused(exc, cancellation_codes(exc) or [], marker_index)

    @staticmethod
    def _refused(exc: Exception, codes: list[Any], marker_index: int | None) -> NoReturn:
        if (
            marker_index is not None
            and len(codes) > marker_index
            and codes[marker_index] == "ConditionalCheckFailed"
        ):
            raise EventAlreadyProcessed("the event was already processed") from None
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            raise ConcurrentUpdate("the order changed since it was read") from None
        raise exc


class DynamoDBUnitOfWorkFactory:
    def __init__(self, tables: RegionalTables, clock: Callable[[], float] = time.time) -> None:
        self._tables = tables
        self._clock = clock

    def __call__(self, ctx: TenantContext, cause: Cause) -> DynamoDBUnitOfWork:
        return DynamoDBUnitOfWork(self._tables, ctx, cause, self._clock)
