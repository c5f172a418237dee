"""In-memory OrderRepository: the fake unit tests run on, over one MemoryStore that the memory
unit of work writes (all-or-nothing, version checks, processed-event markers)."""

from __future__ import annotations

import copy
import threading

from order_service.adapters import page_token
from order_service.domain.order import Order
from order_service.ports.order_repository import OrderPage
from tenant_context import OutboxMessage, TenantContext


def _pk(ctx: TenantContext) -> str:
    return f"TENANT#{ctx.tenant_id}"


class MemoryStore:
    """One tenant-keyed store shared by the memory adapters, like one DynamoDB table."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.orders: dict[str, dict[str, Order]] = {}
        self.processed: dict[str, set[str]] = {}
        self.outbox: list[OutboxMessage] = []


class MemoryOrderRepository:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        with self.store.lock:
            order = self.store.orders.get(ctx.tenant_id, {}).get(order_id)
            return fresh(order) if order else None

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
            return OrderPage([fresh(o) for o in page], token)

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        with self.store.lock:
            return event_id in self.store.processed.get(ctx.tenant_id, set())

    def purge(self, ctx: TenantContext) -> int:
        with self.store.lock:
            count = len(self.store.orders.pop(ctx.tenant_id, {}))
            count += len(self.store.processed.pop(ctx.tenant_id, set()))
            return count


def stored(order: Order, *, version: int) -> Order:
    """The order as the store keeps it: without its events, at `version`."""
    return Order(
        id=order.id,
        lines=order.lines,
        status=order.status,
        reason=order.reason,
        version=version,
        placed_at=order.placed_at,
    )


def fresh(order: Order) -> Order:
    return copy.copy(stored(order, version=order.version))
