"""In-memory ProductStore for unit tests: same rules as the real stores, one lock for atomicity.
Its writes come through memory_unit_of_work.py; it is also the fake of a polled outbox."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from product_service.adapters import page_token
from product_service.domain.model import Page, PageRequest, Product, Reservation
from product_service.ports.outbox_source import PendingMessage
from tenant_context import OutboxMessage, TenantContext


@dataclass
class TenantData:
    products: dict[str, Product] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # the products' ids, sorted (the page order)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)


class MemoryProductStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._tenants: defaultdict[str, TenantData] = defaultdict(TenantData)
        self.outbox: list[OutboxMessage] = []
        self.relayed: set[str] = set()

    def data(self, tenant: TenantContext) -> TenantData:
        return self._tenants[tenant.tenant_id]

    def get(self, tenant: TenantContext, product_id: str) -> Product | None:
        with self.lock:
            return self.data(tenant).products.get(product_id)

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        after = ""
        if page.next_token:
            key = page_token.decode(
                page.next_token, required={"tenant": tenant.tenant_id}, prefixes={"after": ""}
            )
            after = key["after"]
        with self.lock:
            data = self.data(tenant)
            start = bisect.bisect_right(data.ids, after)
            chosen = data.ids[start : start + page.limit]
            items = tuple(data.products[pid] for pid in chosen)
            more = len(data.ids) > start + page.limit
        token = (
            page_token.encode({"tenant": tenant.tenant_id, "after": chosen[-1]}) if more else None
        )
        return Page(items=items, next_token=token)

    def stock_of(self, tenant: TenantContext, product_ids: Sequence[str]) -> dict[str, int | None]:
        with self.lock:
            products = self.data(tenant).products
            return {pid: products[pid].stock if pid in products else None for pid in product_ids}

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None:
        with self.lock:
            return self.data(tenant).reservations.get(order_id)

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool:
        with self.lock:
            return event_id in self.data(tenant).processed

    def purge(self, tenant: TenantContext) -> int:
        with self.lock:
            data = self._tenants.pop(tenant.tenant_id, None)
        if data is None:
            return 0
        return len(data.products) + len(data.reservations) + len(data.processed)

    # -- OutboxSource: the fake of a store whose outbox is polled ---------------------------
    def pending(self, limit: int) -> list[PendingMessage]:
        with self.lock:
            waiting = [m for m in self.outbox if m.event_id not in self.relayed]
        return [PendingMessage(key=m.event_id, message=m) for m in waiting[:limit]]

    def done(self, key: str) -> None:
        with self.lock:
            self.relayed.add(key)
