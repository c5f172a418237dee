"""In-memory ProductCatalogue, on the same store as the memory order repository."""

from __future__ import annotations

from collections.abc import Iterable

from order_service.adapters.memory_order_repository import MemoryStore
from tenant_context import TenantContext


class MemoryProductCatalogue:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def record_created(self, ctx: TenantContext, product_id: str) -> None:
        with self.store.lock:
            self.store.products.setdefault(ctx.tenant_id, {}).setdefault(product_id, False)

    def record_deleted(self, ctx: TenantContext, product_id: str) -> None:
        with self.store.lock:
            self.store.products.setdefault(ctx.tenant_id, {})[product_id] = True

    def unknown(self, ctx: TenantContext, product_ids: Iterable[str]) -> set[str]:
        with self.store.lock:
            known = self.store.products.get(ctx.tenant_id, {})
            return {p for p in product_ids if known.get(p, True)}
