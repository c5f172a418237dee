"""OrderRepository on Fauna (FQL v10, the `fauna` driver), in the tenant's child database.

Collections (the provisioner creates them with the tenant's data space; COLLECTIONS below):
Order (unique order_id), ProcessedEvent (unique event_id, shared with the product service:
event ids are unique, and each marker names its service), Outbox (the relay reads it).
A change, its outbox documents and the processed-event marker are one query: one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from order_service.adapters import page_token
from order_service.adapters.fauna_databases import FaunaAborted, FaunaTenantDatabases
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderPage
from order_service.ports.outbox import OutboxMessage
from tenant_context import TenantContext

SOURCE = "saas.order"

# The collections this service uses in a tenant's database (the provisioner creates them).
COLLECTIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "Order",
        "indexes": {
            "byOrderId": {"terms": [{"field": ".order_id"}]},
            "sortedByOrderId": {"values": [{"field": ".order_id"}]},
            # GET /orders, newest first: `placed` is the time placed, then the id.
            "sortedByPlaced": {"values": [{"field": ".placed", "order": "desc"}]},
        },
        "constraints": [{"unique": [".order_id"]}],
    },
    {
        "name": "ProcessedEvent",
        "indexes": {"byEventId": {"terms": [{"field": ".event_id"}]}},
        "constraints": [{"unique": [".event_id"]}],
    },
    {"name": "Outbox", "constraints": [{"unique": [".event_id"]}]},
    {
        "name": "KnownProduct",
        "indexes": {"byPid": {"terms": [{"field": ".pid"}]}},
        "constraints": [{"unique": [".pid"]}],
    },
)

ORDER_FIELDS = "{ order_id, status, lines, reason, version, placed }"

GET = "Order.byOrderId(${order_id}).first() " + ORDER_FIELDS

# Newest first; a next page starts after the last `placed` of the one before.
LIST_FIRST = "Order.sortedByPlaced().take(${take}).toArray() " + ORDER_FIELDS
LIST_AFTER = (
    "Order.sortedByPlaced({ from: ${before} }).where(.placed != ${before})"
    ".take(${take}).toArray() " + ORDER_FIELDS
)

ADD = """if (Order.byOrderId(${order_id}).first() != null) abort("exists")
Order.create(${order})
${outbox}.forEach(o => Outbox.create(o))
null"""

SAVE = """let event_id = ${event_id}
if (event_id != null && ProcessedEvent.byEventId(event_id).first() != null) abort("duplicate")
let current = Order.byOrderId(${order_id}).first()
if (current == null) abort("changed")
if (current!.version != ${read}) abort("changed")
current!.replace(${order})
if (event_id != null) ProcessedEvent.create({ event_id: event_id, service: ${service} })
${outbox}.forEach(o => Outbox.create(o))
null"""

MARK = """if (ProcessedEvent.byEventId(${event_id}).first() != null) abort("duplicate")
ProcessedEvent.create({ event_id: ${event_id}, service: ${service} })
${outbox}.forEach(o => Outbox.create(o))
null"""

IS_PROCESSED = "ProcessedEvent.byEventId(${event_id}).first() != null"

PURGE = """let orders = Order.all().toArray()
orders.forEach(d => d.delete())
let markers = ProcessedEvent.all().where(.service == ${service}).toArray()
markers.forEach(d => d.delete())
let products = KnownProduct.all().toArray()
products.forEach(d => d.delete())
orders.length + markers.length + products.length"""


class FaunaOrderRepository:
    def __init__(self, databases: FaunaTenantDatabases) -> None:
        self._db = databases

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        data = self._db.query(ctx, GET, order_id=order_id)
        return _order(data) if data else None

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        if next_token is None:
            rows = self._db.query(ctx, LIST_FIRST, take=limit + 1)
        else:
            key = page_token.decode(next_token, tenant_pk=_tenant_pk(ctx))
            rows = self._db.query(ctx, LIST_AFTER, before=key["placed"], take=limit + 1)
        orders = [_order(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = page_token.after(_tenant_pk(ctx), orders[-1])
        return OrderPage(orders, token)

    def add(self, ctx: TenantContext, order: Order, outbox: Sequence[OutboxMessage]) -> None:
        try:
            self._db.query(
                ctx,
                ADD,
                order_id=order.id,
                order=_document(order, version=1),
                outbox=[_outbox(m) for m in outbox],
            )
        except FaunaAborted:
            raise ConcurrentUpdate(f"order {order.id} already exists") from None

    def save(
        self,
        ctx: TenantContext,
        order: Order,
        outbox: Sequence[OutboxMessage],
        *,
        processed_event_id: str | None = None,
    ) -> None:
        try:
            self._db.query(
                ctx,
                SAVE,
                event_id=processed_event_id,
                order_id=order.id,
                read=order.version,
                order=_document(order, version=order.version + 1),
                service=SOURCE,
                outbox=[_outbox(m) for m in outbox],
            )
        except FaunaAborted as exc:
            raise _error(str(exc)) from None

    def mark_processed(
        self, ctx: TenantContext, event_id: str, outbox: Sequence[OutboxMessage] = ()
    ) -> None:
        try:
            self._db.query(
                ctx, MARK, event_id=event_id, service=SOURCE, outbox=[_outbox(m) for m in outbox]
            )
        except FaunaAborted as exc:
            raise _error(str(exc)) from None

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        return bool(self._db.query(ctx, IS_PROCESSED, event_id=event_id))

    def purge(self, ctx: TenantContext) -> int:
        return int(self._db.query(ctx, PURGE, service=SOURCE))


def _tenant_pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


def _error(reason: str) -> Exception:
    if reason == "duplicate":
        return EventAlreadyProcessed("the event was already processed")
    return ConcurrentUpdate("the order changed since it was read")


def _document(order: Order, *, version: int) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "status": order.status.value,
        "lines": [{"product_id": ln.product_id, "quantity": ln.quantity} for ln in order.lines],
        "reason": order.reason,
        "version": version,
        "placed": order.listing_key,
    }


def _outbox(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "source": message.source,
        "detail_type": message.detail_type,
        "detail": message.detail,
    }


def _order(data: dict[str, Any]) -> Order:
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
