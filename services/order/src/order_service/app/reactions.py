"""How the order service reacts to other services' events. Each reaction commits its effect
with the event's processed marker in one unit of work, so a duplicate delivery is a no-op."""

from __future__ import annotations

from collections.abc import Callable

from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order, OrderStatus
from order_service.ports.order_repository import OrderRepository
from order_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext

# Two reactions to one order racing: re-read and retry; past this, SQS redelivers the message.
MAX_ATTEMPTS = 3


class Reactions:
    def __init__(self, repository: OrderRepository, unit_of_work: UnitOfWorkFactory) -> None:
        self._repository = repository
        self._uow = unit_of_work

    def stock_reserved(self, ctx: TenantContext, order_id: str, cause: Cause) -> Order | None:
        return self._change(ctx, order_id, cause, lambda order: order.confirm())

    def stock_reservation_rejected(
        self, ctx: TenantContext, order_id: str, reason: str, cause: Cause
    ) -> Order | None:
        return self._change(ctx, order_id, cause, lambda order: order.reject(reason))

    def tenant_deprovisioned(self, ctx: TenantContext) -> int:
        return self._repository.purge(ctx)

    def _change(
        self, ctx: TenantContext, order_id: str, cause: Cause, change: Callable[[Order], None]
    ) -> Order | None:
        """The order after the change, or None when the event was already processed or names
        an order this tenant does not have (its marker is committed all the same)."""
        if not cause.event_id:
            raise ValueError("a reaction needs the event_id of the event that caused it")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # A duplicate is told by a read, not by a transaction that fails.
            if self._repository.is_processed(ctx, cause.event_id):
                return None
            try:
                with self._uow(ctx, cause) as uow:
                    order = uow.orders.get(order_id)
                    if order is not None:
                        change(order)
                    uow.commit()
                    return order
            except EventAlreadyProcessed:
                return None
            except ConcurrentUpdate:
                if attempt == MAX_ATTEMPTS:
                    raise
        return None  # pragma: no cover - the loop returns or raises


def changed_status(order: Order | None, status: OrderStatus) -> bool:
    """True when a reaction moved the order into `status` (for metrics)."""
    return order is not None and order.status is status and bool(order.events)
