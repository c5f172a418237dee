"""The order service's projection of the products each tenant has, kept from product events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from tenant_context import TenantContext


class ProductCatalogue(Protocol):
    def record_created(self, ctx: TenantContext, product_id: str) -> None:
        """Known from now on, unless it was already deleted (events may arrive reordered)."""
        ...

    def record_deleted(self, ctx: TenantContext, product_id: str) -> None:
        """Unknown from now on, for good: product ids are never reused."""
        ...

    def unknown(self, ctx: TenantContext, product_ids: Iterable[str]) -> set[str]:
        """The ids among `product_ids` that are not known products of the tenant."""
        ...
