"""Where orders are read, and a tenant's orders purged. Writes go through the unit of work
(ports/unit_of_work.py): a change, its outbox messages and the processed marker together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from order_service.domain.order import Order
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

    def is_processed(self, ctx: TenantContext, event_id: str) -> bool:
        """Whether the tenant's processed marker of this event exists."""
        ...

    def purge(self, ctx: TenantContext) -> int:
        """Remove the tenant's orders and processed markers; returns how many items went."""
        ...
