"""The memory unit of work: writes a commit's changes into the MemoryStore under its lock, all
or nothing, with the same checks as the real stores (marker, existing id, version)."""

from __future__ import annotations

from order_service.adapters.memory_order_repository import MemoryStore, fresh, stored
from order_service.adapters.tracking_unit_of_work import Changes, TrackingUnitOfWork
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order
from tenant_context import Cause, TenantContext


class MemoryUnitOfWork(TrackingUnitOfWork):
    def __init__(self, store: MemoryStore, ctx: TenantContext, cause: Cause) -> None:
        super().__init__(ctx, cause)
        self._store = store

    def _load(self, order_id: str) -> Order | None:
        with self._store.lock:
            order = self._store.orders.get(self.ctx.tenant_id, {}).get(order_id)
            return fresh(order) if order else None

    def _write(self, changes: Changes) -> None:
        tenant = self.ctx.tenant_id
        with self._store.lock:
            orders = self._store.orders.setdefault(tenant, {})
            processed = self._store.processed.setdefault(tenant, set())
            marker = changes.processed_event_id
            if marker is not None and marker in processed:
                raise EventAlreadyProcessed(f"event {marker} was already processed")
            for order in changes.added:
                if order.id in orders:
                    raise ConcurrentUpdate(f"order {order.id} already exists")
            for order in changes.changed:
                current = orders.get(order.id)
                if current is None or current.version != order.version:
                    raise ConcurrentUpdate(f"order {order.id} changed since it was read")
            for order in changes.added:
                orders[order.id] = stored(order, version=1)
            for order in changes.changed:
                orders[order.id] = stored(order, version=order.version + 1)
            if marker is not None:
                processed.add(marker)
            self._store.outbox.extend(changes.outbox)


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def __call__(self, ctx: TenantContext, cause: Cause) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._store, ctx, cause)
