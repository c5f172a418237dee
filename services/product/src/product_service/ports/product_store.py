"""The product store, read side: products, reservations and processed-event markers of one
tenant. Every method takes the TenantContext: the store picks the tenant's data space (pooled or
silo table, region, Fauna child database) from it and nothing else. Writes go through the unit
of work (ports/unit_of_work.py), never through the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from product_service.domain.model import Page, PageRequest, Product, Reservation
from tenant_context import TenantContext


class ProductStore(Protocol):
    def get(self, tenant: TenantContext, product_id: str) -> Product | None: ...

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        """The tenant's products in a stable order; InvalidPageRequest for a foreign token."""
        ...

    def stock_of(self, tenant: TenantContext, product_ids: Sequence[str]) -> dict[str, int | None]:
        """Current stock of each id (None for a product that does not exist)."""
        ...

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None: ...

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool: ...

    def purge(self, tenant: TenantContext) -> int:
        """Delete every item of the tenant this service owns; the number of items deleted."""
        ...
