"""OrderRepository on DynamoDB: the tenant id leads every key (pk "TENANT#<id>"); a change, its
outbox items and the processed-event marker go in one TransactWriteItems.

Items of a tenant (pk "TENANT#<id>"): sk "ORDER#<id>" an order, "EVENT#<id>" a processed-event
marker, "PRODUCT#<id>" the product projection, and, in the pooled table of the same region,
"OUTBOX#<event id>" an outbox item the relay publishes from the table's stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from order_service.adapters import page_token
from order_service.adapters.dynamodb_tables import RegionalTables
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderPage
from order_service.ports.outbox import OutboxMessage
from tenant_context import TenantContext

# SQS keeps a message at most 14 days: a marker older than that cannot meet its duplicate.
MARKER_TTL_SECONDS = 15 * 24 * 3600
# The relay reads the INSERT from the stream; the item itself is only needed until then.
OUTBOX_TTL_SECONDS = 24 * 3600


def tenant_pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


# The global secondary index orders are listed by (pk, placed), newest first.
BY_PLACED = "by-placed"


class DynamoDBOrderRepository:
    def __init__(self, tables: RegionalTables, clock: Any = time.time) -> None:
        self._tables = tables
        self._clock = clock

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        response = self._tables.client(ctx).get_item(
            TableName=self._tables.data_table(ctx),
            Key=_key(ctx, f"ORDER#{order_id}"),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _order(item) if item else None

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        # The by-placed index holds order items only (outbox items and markers lack `placed`).
        query: dict[str, Any] = {
            "TableName": self._tables.data_table(ctx),
            "IndexName": BY_PLACED,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": tenant_pk(ctx)}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token is not None:
            key = page_token.decode(next_token, tenant_pk=tenant_pk(ctx))
            query["ExclusiveStartKey"] = {
                "pk": {"S": key["pk"]},
                "sk": {"S": key["sk"]},
                "placed": {"S": key["placed"]},
            }
        response = self._tables.client(ctx).query(**query)
        last = response.get("LastEvaluatedKey")
        token = None
        if last:
            token = page_token.encode(
                {"pk": last["pk"]["S"], "sk": last["sk"]["S"], "placed": last["placed"]["S"]}
            )
        return OrderPage([_order(item) for item in response.get("Items", [])], token)

    def add(self, ctx: TenantContext, order: Order, outbox: Sequence[OutboxMessage]) -> None:
        put = {
            "Put": {
                "TableName": self._tables.data_table(ctx),
                "Item": _order_item(ctx, order, version=1),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        self._transact(ctx, [put, *self._outbox_puts(ctx, outbox)], marker_index=None)

    def save(
        self,
        ctx: TenantContext,
        order: Order,
        outbox: Sequence[OutboxMessage],
        *,
        processed_event_id: str | None = None,
    ) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._tables.data_table(ctx),
                    "Item": _order_item(ctx, order, version=order.version + 1),
                    "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": {"N": str(order.version)}},
                }
            }
        ]
        marker_index = None
        if processed_event_id is not None:
            marker_index = len(items)
            items.append(self._marker_put(ctx, processed_event_id))
        self._transact(ctx, [*items, *self._outbox_puts(ctx, outbox)], marker_index=marker_index)

    def mark_processed(
        self, ctx: TenantContext, event_id: str, outbox: Sequence[OutboxMessage] = ()
    ) -> None:
        items = [self._marker_put(ctx, event_id), *self._outbox_puts(ctx, outbox)]
        self._transact(ctx, items, marker_index=0)

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        response = self._tables.client(ctx).get_item(
            TableName=self._tables.data_table(ctx),
            Key=_key(ctx, f"EVENT#{event_id}"),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in response

    def purge(self, ctx: TenantContext) -> int:
        tables = {self._tables.data_table(ctx), self._tables.pooled_table}
        return sum(self._purge_table(ctx, table) for table in sorted(tables))

    def _purge_table(self, ctx: TenantContext, table: str) -> int:
        client = self._tables.client(ctx)
        count = 0
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": tenant_pk(ctx)}},
            "ProjectionExpression": "pk, sk",
        }
        while True:
            response = client.query(**query)
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]
            for start in range(0, len(keys), 25):
                requests = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
                pending: dict[str, Any] = {table: requests}
                while pending:
                    pending = client.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems", {}
                    )
            count += len(keys)
            if "LastEvaluatedKey" not in response:
                return count
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _marker_put(self, ctx: TenantContext, event_id: str) -> dict[str, Any]:
        item = {
            **_key(ctx, f"EVENT#{event_id}"),
            "expires_at": {"N": str(int(self._clock()) + MARKER_TTL_SECONDS)},
        }
        return {
            "Put": {
                "TableName": self._tables.data_table(ctx),
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _outbox_puts(
        self, ctx: TenantContext, outbox: Sequence[OutboxMessage]
    ) -> list[dict[str, Any]]:
        expires = str(int(self._clock()) + OUTBOX_TTL_SECONDS)
        return [
            {
                "Put": {
                    "TableName": self._tables.pooled_table,
                    "Item": {
                        **_key(ctx, f"OUTBOX#{message.event_id}"),
                        "source": {"S": message.source},
                        "detail_type": {"S": message.detail_type},
                        "detail": {"S": json.dumps(message.detail, separators=(",", ":"))},
                        "expires_at": {"N": expires},
                    },
                }
            }
            for message in outbox
        ]

    def _transact(
        self, ctx: TenantContext, items: list[dict[str, Any]], *, marker_index: int | None
    ) -> None:
        client = self._tables.client(ctx)
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if (
                marker_index is not None
                and len(codes) > marker_index
                and codes[marker_index] == "ConditionalCheckFailed"
            ):
                raise EventAlreadyProcessed("the event was already processed") from None
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                raise ConcurrentUpdate("the order changed since it was read") from None
            raise


def _key(ctx: TenantContext, sk: str) -> dict[str, Any]:
    return {"pk": {"S": tenant_pk(ctx)}, "sk": {"S": sk}}


def _order_item(ctx: TenantContext, order: Order, *, version: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(ctx, f"ORDER#{order.id}"),
        "order_id": {"S": order.id},
        "status": {"S": order.status.value},
        "lines": {
            "L": [
                {"M": {"product_id": {"S": ln.product_id}, "quantity": {"N": str(ln.quantity)}}}
                for ln in order.lines
            ]
        },
        "version": {"N": str(version)},
    }
    if order.reason is not None:
        item["reason"] = {"S": order.reason}
    item["placed"] = {"S": order.listing_key}  # every order item is in the by-placed index
    return item


def _order(item: dict[str, Any]) -> Order:
    return Order(
        id=item["order_id"]["S"],
        lines=tuple(
            OrderLine(
                product_id=line["M"]["product_id"]["S"], quantity=int(line["M"]["quantity"]["N"])
            )
            for line in item["lines"]["L"]
        ),
        status=OrderStatus(item["status"]["S"]),
        reason=item["reason"]["S"] if "reason" in item else None,
        version=int(item["version"]["N"]),
        placed_at=Order.placed_at_of(item["placed"]["S"]) if "placed" in item else None,
    )
