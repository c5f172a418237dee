"""In-memory ProductStore for unit tests: same rules as the real stores, one lock for atomicity."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from product_service.adapters import page_token
from product_service.domain.errors import ConcurrentChange, ProductNotFound
from product_service.domain.model import Page, PageRequest, Product, Reservation
from product_service.ports.outbox_source import PendingMessage
from product_service.ports.product_store import OutboxMessage, StockCommit
from tenant_context import TenantContext


@dataclass
class _TenantData:
    products: dict[str, Product] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # the products' ids, sorted (the page order)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)


class MemoryProductStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: defaultdict[str, _TenantData] = defaultdict(_TenantData)
        self.outbox: list[OutboxMessage] = []
        self.relayed: set[str] = set()

    def _data(self, tenant: TenantContext) -> _TenantData:
        return self._tenants[tenant.tenant_id]

    def get(self, tenant: TenantContext, product_id: str) -> Product | None:
        with self._lock:
            return self._data(tenant).products.get(product_id)

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        after = ""
        if page.next_token:
            key = page_token.decode(
                page.next_token, required={"tenant": tenant.tenant_id}, prefixes={"after": ""}
            )
            after = key["after"]
        with self._lock:
            data = self._data(tenant)
            start = bisect.bisect_right(data.ids, after)
            chosen = data.ids[start : start + page.limit]
            items = tuple(data.products[pid] for pid in chosen)
            more = len(data.ids) > start + page.limit
        token = (
            page_token.encode({"tenant": tenant.tenant_id, "after": chosen[-1]}) if more else None
        )
        return Page(items=items, next_token=token)

    def create(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        with self._lock:
            if product.id in self._data(tenant).products:
                raise ConcurrentChange(f"product {product.id!r} exists")
            self._data(tenant).products[product.id] = product
            bisect.insort(self._data(tenant).ids, product.id)
            self.outbox.append(outbox)

    def replace(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        with self._lock:
            if product.id not in self._data(tenant).products:
                raise ProductNotFound(product.id)
            self._data(tenant).products[product.id] = product
            self.outbox.append(outbox)

    def delete(self, tenant: TenantContext, product_id: str, outbox: OutboxMessage) -> None:
        with self._lock:
            data = self._data(tenant)
            if data.products.pop(product_id, None) is None:
                raise ProductNotFound(product_id)
            del data.ids[bisect.bisect_left(data.ids, product_id)]
            self.outbox.append(outbox)

    def stock_of(self, tenant: TenantContext, product_ids: list[str]) -> dict[str, int | None]:
        with self._lock:
            products = self._data(tenant).products
            return {pid: products[pid].stock if pid in products else None for pid in product_ids}

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None:
        with self._lock:
            return self._data(tenant).reservations.get(order_id)

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool:
        with self._lock:
            return event_id in self._data(tenant).processed

    def commit_stock(self, tenant: TenantContext, commit: StockCommit) -> None:
        with self._lock:
            data = self._data(tenant)
            if commit.processed_event_id in data.processed:
                raise ConcurrentChange("event already processed")
            current = data.reservations.get(commit.reservation.order_id)
            if current != commit.expected:
                raise ConcurrentChange("the reservation changed")
            updated: dict[str, Product] = {}
            for move in commit.movements:
                product = updated.get(move.product_id) or data.products.get(move.product_id)
                if product is None or product.stock + move.delta < 0:
                    raise ConcurrentChange(f"stock of {move.product_id!r} changed")
                updated[move.product_id] = product.replaced(
                    name=product.name,
                    sku=product.sku,
                    price=product.price,
                    stock=product.stock + move.delta,
                )
            data.products.update(updated)
            data.reservations[commit.reservation.order_id] = commit.reservation
            data.processed.add(commit.processed_event_id)
            self.outbox.extend(commit.outbox)

    # -- OutboxSource: the fake of a store whose outbox is polled ---------------------------
    def pending(self, limit: int) -> list[PendingMessage]:
        with self._lock:
            waiting = [m for m in self.outbox if m.event_id not in self.relayed]
        return [PendingMessage(key=m.event_id, message=m) for m in waiting[:limit]]

    def done(self, key: str) -> None:
        with self._lock:
            self.relayed.add(key)

    def purge(self, tenant: TenantContext) -> int:
        with self._lock:
            data = self._tenants.pop(tenant.tenant_id, None)
        if data is None:
            return 0
        return len(data.products) + len(data.reservations) + len(data.processed)
