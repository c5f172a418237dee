"""In-memory OrderRepository: the fake unit tests run on. Same rules as
the real adapters: all-or-nothing writes, version checks, processed-event markers."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

from order_service.adapters import page_token
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order
from order_service.ports.order_repository import OrderPage
from order_service.ports.outbox import OutboxMessage
from tenant_context import TenantContext


def _pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


class MemoryStore:
    """One tenant-keyed store shared by the memory adapters, like one DynamoDB table."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.orders: dict[str, dict[str, Order]] = {}
        self.processed: dict[str, set[str]] = {}
        self.products: dict[str, dict[str, bool]] = {}  # product_id -> deleted
        self.outbox: list[OutboxMessage] = []


class MemoryOrderRepository:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        with self.store.lock:
            order = self.store.orders.get(ctx.tenant_id, {}).get(order_id)
            return _fresh(order) if order else None

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        with self.store.lock:
            before: str | None = None
            if next_token is not None:
                before = str(page_token.decode(next_token, tenant_pk=_pk(ctx))["placed"])
            orders = sorted(
                (
                    o
                    for o in self.store.orders.get(ctx.tenant_id, {}).values()
                    if before is None or o.listing_key < before
                ),
                key=lambda o: o.listing_key,
                reverse=True,
            )
            page = orders[:limit]
            token = None
            if len(orders) > limit:
                token = page_token.after(_pk(ctx), page[-1])
            return OrderPage([_fresh(o) for o in page], token)

    def add(self, ctx: TenantContext, order: Order, outbox: Sequence[OutboxMessage]) -> None:
        with self.store.lock:
            orders = self.store.orders.setdefault(ctx.tenant_id, {})
            if order.id in orders:
                raise ConcurrentUpdate(f"order {order.id} already exists")
            orders[order.id] = _stored(order, version=1)
            self.store.outbox.extend(outbox)

    def save(
        self,
        ctx: TenantContext,
        order: Order,
        outbox: Sequence[OutboxMessage],
        *,
        processed_event_id: str | None = None,
    ) -> None:
        with self.store.lock:
            orders = self.store.orders.setdefault(ctx.tenant_id, {})
            current = orders.get(order.id)
            if current is None or current.version != order.version:
                raise ConcurrentUpdate(f"order {order.id} changed since it was read")
            if processed_event_id is not None:
                self._claim(ctx, processed_event_id)
            orders[order.id] = _stored(order, version=order.version + 1)
            self.store.outbox.extend(outbox)

    def mark_processed(
        self, ctx: TenantContext, event_id: str, outbox: Sequence[OutboxMessage] = ()
    ) -> None:
        with self.store.lock:
            self._claim(ctx, event_id)
            self.store.outbox.extend(outbox)

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        with self.store.lock:
            return event_id in self.store.processed.get(ctx.tenant_id, set())

    def purge(self, ctx: TenantContext) -> int:
        with self.store.lock:
            count = len(self.store.orders.pop(ctx.tenant_id, {}))
            count += len(self.store.processed.pop(ctx.tenant_id, set()))
            count += len(self.store.products.pop(ctx.tenant_id, {}))
            return count

    def _claim(self, ctx: TenantContext, event_id: str) -> None:
        processed = self.store.processed.setdefault(ctx.tenant_id, set())
        if event_id in processed:
            raise EventAlreadyProcessed(f"event {event_id} was already processed")
        processed.add(event_id)


def _stored(order: Order, *, version: int) -> Order:
    return Order(
        id=order.id,
        lines=order.lines,
        status=order.status,
        reason=order.reason,
        version=version,
        placed_at=order.placed_at,
    )


def _fresh(order: Order) -> Order:
    return copy.copy(_stored(order, version=order.version))
