"""What every backend's unit of work shares: it tracks the orders it reads and adds, and at
commit hands its backend one Changes (orders added, orders changed, the outbox messages of
their events and of `emit`, the processed marker) to write in one transaction.

An order counts as changed when its state differs from what was read; an event raised with no
change of state (OrderCancelled again for a reservation that came after the cancel) is
published without rewriting the order."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from order_service.domain.events import SOURCE, OrderEvent
from order_service.domain.order import Order
from tenant_context import Cause, OutboxMessage, TenantContext, outbox_messages


@dataclass(frozen=True, slots=True)
class Changes:
    added: list[Order]
    # Each with the version it was read at (order.version): the write is conditional on it.
    changed: list[Order]
    outbox: list[OutboxMessage]
    # The event this unit of work reacts to (cause.event_id): its marker, or None.
    processed_event_id: str | None

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.outbox or self.processed_event_id)


class _Orders:
    def __init__(self, unit: TrackingUnitOfWork) -> None:
        self._unit = unit

    def get(self, order_id: str) -> Order | None:
        return self._unit.track(order_id)

    def add(self, order: Order) -> None:
        self._unit.added.append(order)


class TrackingUnitOfWork(ABC):
    def __init__(self, ctx: TenantContext, cause: Cause) -> None:
        self.ctx = ctx
        self.cause = cause
        self.added: list[Order] = []
        self._seen: list[tuple[Order, Order]] = []  # (the order, a copy as it was read)
        self._emitted: list[OrderEvent] = []
        self._tenant_orders = _Orders(self)

    @property
    def orders(self) -> _Orders:
        return self._tenant_orders

    def track(self, order_id: str) -> Order | None:
        # One object per order in a unit of work: read twice, it is written (and its events
        # published) once.
        for seen, _ in self._seen:
            if seen.id == order_id:
                return seen
        order = self._load(order_id)
        if order is not None:
            self._seen.append((order, copy.copy(order)))
        return order

    def emit(self, event: OrderEvent) -> None:
        self._emitted.append(event)

    def commit(self) -> None:
        changes = self.changes()
        if not changes.empty:
            self._write(changes)
        self._reset()

    def changes(self) -> Changes:
        events = [e for order in self.added for e in order.events]
        events += [e for order, _ in self._seen for e in order.events]
        events += self._emitted
        return Changes(
            added=list(self.added),
            changed=[order for order, read in self._seen if order != read],
            outbox=outbox_messages(self.ctx, events, source=SOURCE, cause=self.cause),
            processed_event_id=self.cause.event_id,
        )

    def __enter__(self) -> TrackingUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._reset()  # what was not committed is discarded

    def _reset(self) -> None:
        self.added, self._seen, self._emitted = [], [], []

    @abstractmethod
    def _load(self, order_id: str) -> Order | None:
        """The tenant's order as stored now, or None."""

    @abstractmethod
    def _write(self, changes: Changes) -> None:
        """Write every change in one transaction, or nothing: EventAlreadyProcessed when the
        marker exists, ConcurrentUpdate when an order changed or exists already."""
