"""The unit of work in memory: the backend of tests and of a process on its own.

One `MemoryStore` holds every tenant's aggregates, the outbox and the processed markers; a
commit checks and writes under its lock, so it is all or nothing like a transaction."""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType

from pydantic import BaseModel

from metering_service.domain.errors import (
    ConcurrentUpdate,
    EventAlreadyProcessed,
    MeteringNotFound,
)
from metering_service.domain.model import Metering
from tenant_context import Cause, OutboxMessage, TenantContext, outbox_messages


class MemoryStore:
    def __init__(self) -> None:
        self.meterings: dict[tuple[str, str], Metering] = {}
        self.outbox: list[OutboxMessage] = []
        self.processed: set[tuple[str, str]] = set()  # (tenant_id, event_id)
        self.lock = threading.Lock()


class MemoryMeteringRepository:
    def __init__(self, store: MemoryStore, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self.seen: dict[str, Metering] = {}
        self.read_versions: dict[str, int] = {}
        self.purge = False

    def get(self, metering_id: str) -> Metering:
        with self._store.lock:
            stored = self._store.meterings.get((self._tenant_id, metering_id))
        if stored is None:
            raise MeteringNotFound(metering_id)
        copy = dataclasses.replace(stored, events=[])
        self.seen[metering_id] = copy
        self.read_versions[metering_id] = stored.version
        return copy

    def add(self, metering: Metering) -> None:
        self.seen[metering.id] = metering
        self.read_versions[metering.id] = 0

    def delete_all(self) -> int:
        self.purge = True
        with self._store.lock:
            return sum(1 for tenant, _ in self._store.meterings if tenant == self._tenant_id)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, ctx: TenantContext, cause: Cause, source: str) -> None:
        self._store = store
        self._ctx = ctx
        self._cause = cause
        self._source = source
        self._repository = MemoryMeteringRepository(store, ctx.tenant_id)
        self._emitted: list[BaseModel] = []

    @property
    def meterings(self) -> MemoryMeteringRepository:
        return self._repository

    def emit(self, event: BaseModel) -> None:
        self._emitted.append(event)

    def commit(self) -> None:
        tenant_id = self._ctx.tenant_id
        marker = (tenant_id, self._cause.event_id) if self._cause.event_id else None
        with self._store.lock:
            if marker is not None and marker in self._store.processed:
                raise EventAlreadyProcessed(f"event {self._cause.event_id} was handled before")
            for item_id, read_version in self._repository.read_versions.items():
                stored = self._store.meterings.get((tenant_id, item_id))
                if (stored.version if stored else 0) != read_version:
                    raise ConcurrentUpdate(f"{item_id} changed meanwhile")
            events = list(self._emitted)
            if self._repository.purge:
                for key in [k for k in self._store.meterings if k[0] == tenant_id]:
                    del self._store.meterings[key]
            for item_id, item in self._repository.seen.items():
                raised = item.pull_events()
                if raised:
                    events.extend(raised)
                    stored = dataclasses.replace(item, version=item.version + 1)
                    self._store.meterings[(tenant_id, item_id)] = stored
            self._store.outbox.extend(
                outbox_messages(self._ctx, events, source=self._source, cause=self._cause)
            )
            if marker is not None:
                self._store.processed.add(marker)
        self._emitted.clear()
        self._repository.read_versions.clear()
        self._repository.seen.clear()
        self._repository.purge = False

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._emitted.clear()
        self._repository.seen.clear()
        self._repository.read_versions.clear()


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore, source: str) -> None:
        self.store = store
        self._source = source

    def __call__(self, ctx: TenantContext, cause: Cause) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, ctx, cause, self._source)
