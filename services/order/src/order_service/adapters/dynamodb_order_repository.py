"""OrderRepository on DynamoDB: reads, and the tenant purge. The tenant id leads every key.

Items of a tenant (pk "TENANT#<id>"): sk "ORDER#<id>" an order and "EVENT#<id>" a processed-event
marker in the tenant's data table, and, in the pooled table of the same region, "OUTBOX#<event
id>" an outbox item the relay publishes from the table's stream. Writes: dynamodb_unit_of_work.
"""

from __future__ import annotations

from typing import Any

from order_service.adapters import page_token
from order_service.adapters.dynamodb_tables import RegionalTables
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderPage
from tenant_context import TenantContext


def tenant_pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


# The global secondary index orders are listed by (pk, placed), newest first.
BY_PLACED = "by-placed"


class DynamoDBOrderRepository:
    def __init__(self, tables: RegionalTables) -> None:
        self._tables = tables

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        response = self._tables.client(ctx).get_item(
            TableName=self._tables.data_table(ctx),
            Key=item_key(ctx, f"ORDER#{order_id}"),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return order_from_item(item) if item else None

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
        return OrderPage([order_from_item(item) for item in response.get("Items", [])], token)

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        response = self._tables.client(ctx).get_item(
            TableName=self._tables.data_table(ctx),
            Key=item_key(ctx, f"EVENT#{event_id}"),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in response

    def purge(self, ctx: TenantContext) -> int:
        pooled, own = self._tables.pooled_table, self._tables.data_table(ctx)
        purged = self._purge_table(ctx, pooled)
        if own != pooled:
            try:
                purged += self._purge_table(ctx, own)
            except self._tables.client(ctx).exceptions.ResourceNotFoundException:
                pass  # the tenant's stack, and its table with it, is already gone
        return purged

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


def item_key(ctx: TenantContext, sk: str) -> dict[str, Any]:
    return {"pk": {"S": tenant_pk(ctx)}, "sk": {"S": sk}}


def order_item(ctx: TenantContext, order: Order, *, version: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **item_key(ctx, f"ORDER#{order.id}"),
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


def order_from_item(item: dict[str, Any]) -> Order:
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
