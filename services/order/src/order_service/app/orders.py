"""What a tenant's users do with orders: place, read, list, cancel.

An order is accepted without asking whether its products exist: the product service is the
authority on products and decides in the saga (StockReservationRejected names the unknown
ones; the order becomes REJECTED with that reason). A projection of the products here would
refuse a product created a moment before, until its ProductCreated arrived."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from order_service.domain.errors import ConcurrentUpdate, IdempotencyKeyReused, OrderNotFound
from order_service.domain.order import Order, OrderLine
from order_service.ports.order_repository import OrderPage, OrderRepository
from order_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext

# Order ids derived from (tenant, Idempotency-Key) live in their own UUID namespace.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1d2e-4b0a-5c8e-9f3d-2a7b8c9d0e1f")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Orders:
    def __init__(
        self,
        repository: OrderRepository,
        unit_of_work: UnitOfWorkFactory,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._repository = repository
        self._uow = unit_of_work
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
        try:
            with self._uow(ctx, cause) as uow:
                placed = uow.orders.get(order_id) if order_id else None
                if placed is not None:
                    return self._same(placed, lines)
                order = Order.place(lines, order_id=order_id, placed_at=self._clock())
                uow.orders.add(order)
                uow.commit()
                return order
        except ConcurrentUpdate:
            placed = self._repository.get(ctx, order_id) if order_id else None
            if placed is None:
                raise
            return self._same(placed, lines)  # the same key raced itself: one order won

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
        with self._uow(ctx, cause) as uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(order_id)
            order.cancel()
            uow.commit()  # nothing to write when it was cancelled already
            return order
