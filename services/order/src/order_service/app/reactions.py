"""How the order service reacts to other services' events. Each reaction commits its effect
with the event's processed marker, so a duplicate delivery is a no-op."""

from __future__ import annotations

from collections.abc import Callable

from order_service.app.outbox import Cause, to_outbox
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order, OrderStatus
from order_service.ports.order_repository import OrderRepository
from order_service.ports.product_catalogue import ProductCatalogue
from tenant_context import TenantContext

# Two reactions to one order racing: re-read and retry; past this, SQS redelivers the message.
MAX_ATTEMPTS = 3


class Reactions:
    def __init__(self, repository: OrderRepository, catalogue: ProductCatalogue) -> None:
        self._repository = repository
        self._catalogue = catalogue

    def stock_reserved(self, ctx: TenantContext, order_id: str, cause: Cause) -> Order | None:
        return self._change(ctx, order_id, cause, lambda order: order.confirm())

    def stock_reservation_rejected(
        self, ctx: TenantContext, order_id: str, reason: str, cause: Cause
    ) -> Order | None:
        return self._change(ctx, order_id, cause, lambda order: order.reject(reason))

    def product_created(self, ctx: TenantContext, product_id: str) -> None:
        self._catalogue.record_created(ctx, product_id)

    def product_deleted(self, ctx: TenantContext, product_id: str) -> None:
        self._catalogue.record_deleted(ctx, product_id)

    def tenant_deprovisioned(self, ctx: TenantContext) -> int:
        return self._repository.purge(ctx)

    def _change(
        self, ctx: TenantContext, order_id: str, cause: Cause, change: Callable[[Order], None]
    ) -> Order | None:
        """The order after the change, or None when the event was already processed or names
        an order this tenant does not have."""
        if not cause.event_id:
            raise ValueError("a reaction needs the event_id of the event that caused it")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self._repository.is_processed(ctx, cause.event_id):
                return None
            order = self._repository.get(ctx, order_id)
            try:
                if order is None:
                    self._repository.mark_processed(ctx, cause.event_id)
                    return None
                before = order.status
                change(order)
                outbox = to_outbox(ctx, order.events, cause)
                if order.status is before:
                    self._repository.mark_processed(ctx, cause.event_id, outbox)
                else:
                    self._repository.save(ctx, order, outbox, processed_event_id=cause.event_id)
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
