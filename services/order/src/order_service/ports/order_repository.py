"""Where orders live. Every write commits the state change, its outbox messages and (for a
reaction to an event) the processed-event marker together, or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from order_service.domain.order import Order
from order_service.ports.outbox import OutboxMessage
from tenant_context import TenantContext


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    next_token: str | None


class OrderRepository(Protocol):
    def get(self, ctx: TenantContext, order_id: str) -> Order | None:
        """The tenant's order, or None (also when the id belongs to another tenant)."""
        ...

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        """One page of the tenant's orders. A token not issued for this tenant: InvalidPageToken."""
        ...

    def add(self, ctx: TenantContext, order: Order, outbox: Sequence[OutboxMessage]) -> None:
        """Store a new order with its outbox messages."""
        ...

    def save(
        self,
        ctx: TenantContext,
        order: Order,
        outbox: Sequence[OutboxMessage],
        *,
        processed_event_id: str | None = None,
    ) -> None:
        """Store a changed order if it still has `order.version`, with its outbox messages and
        the processed-event marker. Raises ConcurrentUpdate or EventAlreadyProcessed."""
        ...

    def mark_processed(
        self, ctx: TenantContext, event_id: str, outbox: Sequence[OutboxMessage] = ()
    ) -> None:
        """Record an event whose effect is no state change. Raises EventAlreadyProcessed."""
        ...

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool: ...

    def purge(self, ctx: TenantContext) -> int:
        """Remove every item of the tenant (orders, markers, projection); returns the count."""
        ...
