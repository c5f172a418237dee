"""What every unit of work adapter shares: it records the changes a use case asks for, reads
through the backend's ProductStore, and hands its backend one `Changes` value to write in one
transaction at commit (the backends differ only in how they write it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from pydantic import BaseModel

from product_service.domain.model import Product, Reservation, StockMovement
from product_service.ports.product_store import ProductStore
from tenant_context import Cause, OutboxMessage, TenantContext, outbox_messages


@dataclass(frozen=True, slots=True)
class ReservationChange:
    """Commit only if the order's reservation is still `expected` (None: there is none);
    then write `reservation`, unless it is `expected` itself (a check, no write)."""

    expected: Reservation | None
    reservation: Reservation | None

    @property
    def order_id(self) -> str:
        known = self.reservation or self.expected
        assert known is not None  # built from a get or a save: one of them names the order
        return known.order_id

    @property
    def writes(self) -> bool:
        return self.reservation is not None and self.reservation != self.expected


@dataclass(frozen=True, slots=True)
class Changes:
    """One commit: everything in it is written, or nothing."""

    added: tuple[Product, ...] = ()
    replaced: tuple[Product, ...] = ()
    deleted: tuple[str, ...] = ()
    movements: tuple[StockMovement, ...] = ()
    reservations: tuple[ReservationChange, ...] = ()
    messages: tuple[OutboxMessage, ...] = ()
    processed_event_id: str | None = None  # the marker to write (the cause's event)


class _Products:
    def __init__(self, store: ProductStore, ctx: TenantContext) -> None:
        self._store, self._ctx = store, ctx
        self.added: list[Product] = []
        self.replaced: list[Product] = []
        self.deleted: list[str] = []
        self.movements: list[StockMovement] = []

    def get(self, product_id: str) -> Product | None:
        return self._store.get(self._ctx, product_id)

    def stock_of(self, product_ids: Sequence[str]) -> dict[str, int | None]:
        return self._store.stock_of(self._ctx, product_ids)

    def add(self, product: Product) -> None:
        self.added.append(product)

    def replace(self, product: Product) -> None:
        self.replaced.append(product)

    def delete(self, product_id: str) -> None:
        self.deleted.append(product_id)

    def move_stock(self, movement: StockMovement) -> None:
        self.movements.append(movement)


class _Reservations:
    def __init__(self, store: ProductStore, ctx: TenantContext) -> None:
        self._store, self._ctx = store, ctx
        self.read: dict[str, Reservation | None] = {}
        self.saved: dict[str, Reservation] = {}

    def get(self, order_id: str) -> Reservation | None:
        found = self._store.reservation(self._ctx, order_id)
        self.read.setdefault(order_id, found)
        return found

    def save(self, reservation: Reservation) -> None:
        self.saved[reservation.order_id] = reservation

    def changes(self) -> tuple[ReservationChange, ...]:
        order_ids = list(self.read) + [o for o in self.saved if o not in self.read]
        return tuple(
            ReservationChange(expected=self.read.get(o), reservation=self.saved.get(o))
            for o in order_ids
        )


class RecordingUnitOfWork(ABC):
    """A unit of work whose backend writes one `Changes` at commit (see ports/unit_of_work)."""

    def __init__(self, store: ProductStore, ctx: TenantContext, cause: Cause, source: str) -> None:
        self.ctx, self.cause, self._source = ctx, cause, source
        self._products = _Products(store, ctx)
        self._reservations = _Reservations(store, ctx)
        self._events: list[BaseModel] = []
        self._done = False

    @property
    def products(self) -> _Products:
        return self._products

    @property
    def reservations(self) -> _Reservations:
        return self._reservations

    def emit(self, event: BaseModel) -> None:
        self._events.append(event)

    def changes(self) -> Changes:
        return Changes(
            added=tuple(self._products.added),
            replaced=tuple(self._products.replaced),
            deleted=tuple(self._products.deleted),
            movements=tuple(self._products.movements),
            reservations=self._reservations.changes(),
            messages=tuple(
                outbox_messages(self.ctx, self._events, source=self._source, cause=self.cause)
            ),
            processed_event_id=self.cause.event_id,
        )

    def commit(self) -> None:
        if self._done:
            raise RuntimeError("this unit of work was committed already; open a new one")
        self._done = True
        self._write(self.changes())

    @abstractmethod
    def _write(self, changes: Changes) -> None:
        """Write every change in one transaction, or raise having written nothing."""

    def __enter__(self) -> RecordingUnitOfWork:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done = True  # nothing recorded after this point is ever written
