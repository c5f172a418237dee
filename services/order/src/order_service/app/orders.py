"""What a tenant's users do with orders: place, read, list, cancel."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from order_service.app.outbox import Cause, to_outbox
from order_service.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    OrderNotFound,
    UnknownProducts,
)
from order_service.domain.order import Order, OrderLine
from order_service.ports.order_repository import OrderPage, OrderRepository
from order_service.ports.product_catalogue import ProductCatalogue
from tenant_context import TenantContext

# Order ids derived from (tenant, Idempotency-Key) live in their own UUID namespace.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1d2e-4b0a-5c8e-9f3d-2a7b8c9d0e1f")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Orders:
    def __init__(
        self,
        repository: OrderRepository,
        catalogue: ProductCatalogue,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._repository = repository
        self._catalogue = catalogue
        self._clock = clock

    def place(
        self,
        ctx: TenantContext,
        lines: list[OrderLine],
        cause: Cause,
        *,
        idempotency_key: str | None = None,
    ) -> Order:
        """A new PENDING order. With an idempotency key, a retried request gets the order the
        first one placed (same key, same tenant: same order id) instead of a second order."""
        order_id = None
        if idempotency_key is not None:
            order_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{ctx.tenant_id}:{idempotency_key}"))
            placed = self._repository.get(ctx, order_id)
            if placed is not None:
                return self._same(placed, lines)
        order = Order.place(lines, order_id=order_id, placed_at=self._clock())
        unknown = self._catalogue.unknown(ctx, [line.product_id for line in order.lines])
        if unknown:
            raise UnknownProducts(sorted(unknown))
        try:
            self._repository.add(ctx, order, to_outbox(ctx, order.events, cause))
        except ConcurrentUpdate:
            placed = self._repository.get(ctx, order.id) if order_id else None
            if placed is None:
                raise
            return self._same(placed, lines)  # the same key raced itself: one order won
        return order

    @staticmethod
    def _same(placed: Order, lines: list[OrderLine]) -> Order:
        if list(placed.lines) != list(lines):
            raise IdempotencyKeyReused(placed.id)
        return placed

    def get(self, ctx: TenantContext, order_id: str) -> Order:
        order = self._repository.get(ctx, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        """The tenant's orders, newest first (by the time placed, then the id)."""
        return self._repository.list(ctx, limit=limit, next_token=next_token)

    def cancel(self, ctx: TenantContext, order_id: str, cause: Cause) -> Order:
        order = self.get(ctx, order_id)
        order.cancel()
        if order.events:
            self._repository.save(ctx, order, to_outbox(ctx, order.events, cause))
        return order
