"""UnitOfWork on the in-memory store: every condition checked, then every change applied,
under the store's one lock (all or nothing, as a transaction)."""

from __future__ import annotations

import bisect
from dataclasses import replace

from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.adapters.recording_unit_of_work import Changes, RecordingUnitOfWork
from product_service.domain.errors import ConcurrentChange, EventAlreadyProcessed, ProductNotFound
from product_service.domain.events import SOURCE
from product_service.domain.model import Product
from tenant_context import Cause, TenantContext


class MemoryUnitOfWork(RecordingUnitOfWork):
    def __init__(self, store: MemoryProductStore, ctx: TenantContext, cause: Cause) -> None:
        super().__init__(store, ctx, cause, SOURCE)
        self._store = store

    def _write(self, changes: Changes) -> None:
        with self._store.lock:
            data = self._store.data(self.ctx)
            marker = changes.processed_event_id
            if marker is not None and marker in data.processed:
                raise EventAlreadyProcessed(marker)
            for change in changes.reservations:
                if data.reservations.get(change.order_id) != change.expected:
                    raise ConcurrentChange("the reservation changed")
            for product in changes.added:
                if product.id in data.products:
                    raise ConcurrentChange(f"product {product.id!r} exists")
            for product_id in (*(p.id for p in changes.replaced), *changes.deleted):
                if product_id not in data.products:
                    raise ProductNotFound(product_id)
            stocked: dict[str, Product] = {}
            for move in changes.movements:
                moved = stocked.get(move.product_id) or data.products.get(move.product_id)
                if moved is None or moved.stock + move.delta < 0:
                    raise ConcurrentChange(f"stock of {move.product_id!r} changed")
                stocked[move.product_id] = replace(moved, stock=moved.stock + move.delta)

            # Every condition holds: apply all of it.
            for product in changes.added:
                bisect.insort(data.ids, product.id)
            for product in (*changes.added, *changes.replaced, *stocked.values()):
                data.products[product.id] = product
            for product_id in changes.deleted:
                del data.products[product_id]
                del data.ids[bisect.bisect_left(data.ids, product_id)]
            for change in changes.reservations:
                if change.writes and change.reservation is not None:
                    data.reservations[change.order_id] = change.reservation
            if marker is not None:
                data.processed.add(marker)
            self._store.outbox.extend(changes.messages)


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryProductStore) -> None:
        self._store = store

    def __call__(self, ctx: TenantContext, cause: Cause) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._store, ctx, cause)
