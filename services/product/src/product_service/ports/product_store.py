"""The product store: products, reservations, processed-event markers and the outbox of one
tenant, changed together. Every method takes the TenantContext: the store picks the tenant's
data space (pooled or silo table, region, Fauna child database) from it and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from product_service.domain.model import Page, PageRequest, Product, Reservation, StockMovement
from tenant_context import TenantContext


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An event to publish, committed with the state change that caused it."""

    event_id: str
    source: str
    detail_type: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StockCommit:
    """One atomic change of stock for an order, applied only if every condition still holds:
    - `processed_event_id` was not processed before (it is marked processed in the same write);
    - the order's reservation is still `expected` (None: there is none yet);
    - every movement keeps its product's stock >= 0 and the product exists.
    Otherwise nothing is written and ConcurrentChange is raised."""

    processed_event_id: str
    expected: Reservation | None
    reservation: Reservation
    movements: tuple[StockMovement, ...] = ()
    outbox: tuple[OutboxMessage, ...] = field(default=())


class ProductStore(Protocol):
    def get(self, tenant: TenantContext, product_id: str) -> Product | None: ...

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        """The tenant's products in a stable order; InvalidPageRequest for a foreign token."""
        ...

    def create(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None: ...

    def replace(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        """ProductNotFound when the product does not exist (nothing written)."""
        ...

    def delete(self, tenant: TenantContext, product_id: str, outbox: OutboxMessage) -> None:
        """ProductNotFound when the product does not exist (nothing written)."""
        ...

    def stock_of(self, tenant: TenantContext, product_ids: list[str]) -> dict[str, int | None]:
        """Current stock of each id (None for a product that does not exist)."""
        ...

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None: ...

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool: ...

    def commit_stock(self, tenant: TenantContext, commit: StockCommit) -> None:
        """Apply the commit atomically, or raise ConcurrentChange having written nothing."""
        ...

    def purge(self, tenant: TenantContext) -> int:
        """Delete every item of the tenant; the number of items deleted."""
        ...
