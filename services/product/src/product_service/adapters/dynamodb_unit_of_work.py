"""UnitOfWork on DynamoDB: one TransactWriteItems per commit, a condition on every item.

The product changes, the reservations, the processed marker (sk "EVENT#<event id>", in the
tenant's table: the one that holds the changed aggregates) and the outbox items (sk
"OUTBOX#<event id>", in the pooled table of the region, whose stream feeds the outbox relay)
are one transaction: all written, or none. Shapes and TTLs (OUTBOX_TTL_SECONDS,
MARKER_TTL_SECONDS, defined with the keys in dynamodb_product_store.py): docs/conventions.md."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from product_service.adapters.dynamodb_product_store import (
    EVENT,
    MARKER_TTL_SECONDS,
    OUTBOX,
    OUTBOX_TTL_SECONDS,
    PRODUCT,
    RESERVATION,
    DynamoDBProductStore,
    item_key,
    product_item,
)
from product_service.adapters.recording_unit_of_work import (
    Changes,
    RecordingUnitOfWork,
    ReservationChange,
)
from product_service.domain.errors import ConcurrentChange, EventAlreadyProcessed, ProductNotFound
from product_service.domain.events import SOURCE
from product_service.domain.model import Reservation
from tenant_context import Cause, OutboxMessage, TenantContext
from tenant_context.transactions import cancellation_codes, transact_resending_conflicts

__all__ = [
    "MARKER_TTL_SECONDS",
    "OUTBOX_TTL_SECONDS",
    "DynamoDBUnitOfWork",
    "DynamoDBUnitOfWorkFactory",
]


@dataclass(frozen=True, slots=True)
class _Refusal:
    """What a failed condition on one item of the transaction means."""

    kind: str  # "marker", "not_found" or "concurrent"
    subject: str


class DynamoDBUnitOfWork(RecordingUnitOfWork):
    def __init__(
        self,
        store: DynamoDBProductStore,
        ctx: TenantContext,
        cause: Cause,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(store, ctx, cause, SOURCE)
        self._store = store
        self._sleep = sleep

    def _write(self, changes: Changes) -> None:
        items: list[dict[str, Any]] = []
        meaning: list[_Refusal] = []

        def add(item: dict[str, Any], refusal: _Refusal) -> None:
            items.append(item)
            meaning.append(refusal)

        table = self._store.table(self.ctx)
        for product in changes.added:
            add(
                _put(table, product_item(self.ctx, product), "attribute_not_exists(pk)"),
                _Refusal("concurrent", f"product {product.id!r} exists"),
            )
        for product in changes.replaced:
            add(
                _put(table, product_item(self.ctx, product), "attribute_exists(pk)"),
                _Refusal("not_found", product.id),
            )
        for product_id in changes.deleted:
            delete = {
                "TableName": table,
                "Key": item_key(self.ctx, PRODUCT + product_id),
                "ConditionExpression": "attribute_exists(pk)",
            }
            add({"Delete": delete}, _Refusal("not_found", product_id))
        for move in changes.movements:
            # One condition per line: the product exists and its stock stays >= 0.
            update = {
                "TableName": table,
                "Key": item_key(self.ctx, PRODUCT + move.product_id),
                "UpdateExpression": "SET stock = stock + :delta",
                "ConditionExpression": "attribute_exists(pk) AND stock >= :needed",
                "ExpressionAttributeValues": {
                    ":delta": {"N": str(move.delta)},
                    ":needed": {"N": str(max(0, -move.delta))},
                },
            }
            add({"Update": update}, _Refusal("concurrent", f"stock of {move.product_id!r}"))
        for change in changes.reservations:
            add(
                self._reservation_item(table, change),
                _Refusal("concurrent", f"reservation of {change.order_id!r}"),
            )
        if changes.processed_event_id is not None:
            add(
                _put(table, self._marker(changes.processed_event_id), "attribute_not_exists(pk)"),
                _Refusal("marker", changes.processed_event_id),
            )
        for message in changes.messages:
            add(
                _put(self._store.outbox_table, self._outbox(message), "attribute_not_exists(pk)"),
                _Refusal("concurrent", f"outbox item {message.event_id}"),
            )
        if items:
            self._transact(items, meaning)

    def _reservation_item(self, table: str, change: ReservationChange) -> dict[str, Any]:
        reservation_key = item_key(self.ctx, RESERVATION + change.order_id)
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if change.expected is None
            else {
                "ConditionExpression": "#status = :expected",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":expected": {"S": change.expected.status.value}},
            }
        )
        if not change.writes or change.reservation is None:
            # Read and left as it was: the commit only holds it to what was read.
            return {"ConditionCheck": {"TableName": table, "Key": reservation_key, **condition}}
        return {
            "Put": {
                "TableName": table,
                "Item": {**reservation_key, **_reservation_attributes(change.reservation)},
                **condition,
            }
        }

    def _marker(self, event_id: str) -> dict[str, Any]:
        return {
            **item_key(self.ctx, EVENT + event_id),
            "event_id": {"S": event_id},
            "expires_at": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)},
        }

    def _outbox(self, message: OutboxMessage) -> dict[str, Any]:
        return {
            **item_key(self.ctx, OUTBOX + message.event_id),
            "event_id": {"S": message.event_id},
            "source": {"S": message.source},
            "detail_type": {"S": message.detail_type},
            "detail": {"S": json.dumps(message.detail, separators=(",", ":"))},
            "expires_at": {"N": str(int(time.time()) + OUTBOX_TTL_SECONDS)},
        }

    def _transact(self, items: list[dict[str, Any]], meaning: list[_Refusal]) -> None:
        db = self._store.db(self.ctx)
        try:
            transact_resending_conflicts(
                lambda: db.transact_write_items(TransactItems=items), sleep=self._sleep
            )
        except db.exceptions.TransactionCanceledException as exc:
            raise _error(cancellation_codes(exc) or [], meaning) from None


def _error(reasons: list[str | None], meaning: list[_Refusal]) -> Exception:
    """The domain error of a cancelled transaction, from the items whose condition failed."""
    checks = zip(meaning, reasons, strict=False)
    failed = [m for m, code in checks if code == "ConditionalCheckFailed"]
    if not reasons:  # no reasons given: a lone not-found condition explains it
        not_found = [m for m in meaning if m.kind == "not_found"]
        failed = not_found if len(not_found) == 1 else []
    for refusal in failed:
        if refusal.kind == "marker":
            return EventAlreadyProcessed(refusal.subject)
    for refusal in failed:
        if refusal.kind == "not_found":
            return ProductNotFound(refusal.subject)
    return ConcurrentChange(f"transaction cancelled: {reasons}")


def _put(table: str, item: dict[str, Any], condition: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": condition}}


def _reservation_attributes(reservation: Reservation) -> dict[str, Any]:
    return {
        "order_id": {"S": reservation.order_id},
        "status": {"S": reservation.status.value},
        "lines": {
            "L": [
                {
                    "M": {
                        "product_id": {"S": line.product_id},
                        "quantity": {"N": str(line.quantity)},
                    }
                }
                for line in reservation.lines
            ]
        },
    }


class DynamoDBUnitOfWorkFactory:
    def __init__(self, store: DynamoDBProductStore) -> None:
        self._store = store

    def __call__(self, ctx: TenantContext, cause: Cause) -> DynamoDBUnitOfWork:
        return DynamoDBUnitOfWork(self._store, ctx, cause)
