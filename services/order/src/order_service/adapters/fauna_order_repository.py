"""OrderRepository on Fauna (FQL v10, the `fauna` driver): reads and the tenant purge, in the
tenant's child database, in the order service's own collections (fauna_schema): order_orders
(unique order_id), order_processed_events (unique event_id), order_outbox (the poller reads it).
Writes: fauna_unit_of_work."""

from __future__ import annotations

from typing import Any

from order_service.adapters import page_token
from order_service.adapters.fauna_databases import FaunaTenantDatabases
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderPage
from tenant_context import TenantContext

ORDER_FIELDS = "{ order_id, status, lines, reason, version, placed }"

GET = "order_orders.byOrderId(${order_id}).first() " + ORDER_FIELDS

# Newest first; a next page starts after the last `placed` of the one before.
LIST_FIRST = "order_orders.sortedByPlaced().take(${take}).toArray() " + ORDER_FIELDS
LIST_AFTER = (
    "order_orders.sortedByPlaced({ from: ${before} }).where(.placed != ${before})"
    ".take(${take}).toArray() " + ORDER_FIELDS
)

IS_PROCESSED = "order_processed_events.byEventId(${event_id}).first() != null"

# The order service's own documents only: its orders and markers. Pending outbox documents stay
# for the poller to publish (it deletes each once published), so no event is lost.
PURGE = """let orders = order_orders.all().toArray()
orders.forEach(d => d.delete())
let markers = order_processed_events.all().toArray()
markers.forEach(d => d.delete())
orders.length + markers.length"""


class FaunaOrderRepository:
    def __init__(self, databases: FaunaTenantDatabases) -> None:
        self._db = databases

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        data = self._db.query(ctx, GET, order_id=order_id)
        return order_from_document(data) if data else None

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        if next_token is None:
            rows = self._db.query(ctx, LIST_FIRST, take=limit + 1)
        else:
            key = page_token.decode(next_token, tenant_pk=_tenant_pk(ctx))
            rows = self._db.query(ctx, LIST_AFTER, before=key["placed"], take=limit + 1)
        orders = [order_from_document(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = page_token.after(_tenant_pk(ctx), orders[-1])
        return OrderPage(orders, token)

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        return bool(self._db.query(ctx, IS_PROCESSED, event_id=event_id))

    def purge(self, ctx: TenantContext) -> int:
        return int(self._db.query(ctx, PURGE))


def _tenant_pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


def order_document(order: Order, *, version: int) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "status": order.status.value,
        "lines": [{"product_id": ln.product_id, "quantity": ln.quantity} for ln in order.lines],
        "reason": order.reason,
        "version": version,
        "placed": order.listing_key,
    }


def order_from_document(data: dict[str, Any]) -> Order:
    return Order(
        id=data["order_id"],
        lines=tuple(
            OrderLine(product_id=ln["product_id"], quantity=int(ln["quantity"]))
            for ln in data["lines"]
        ),
        status=OrderStatus(data["status"]),
        reason=data.get("reason"),
        version=int(data["version"]),
        placed_at=Order.placed_at_of(data["placed"]) if data.get("placed") else None,
    )
