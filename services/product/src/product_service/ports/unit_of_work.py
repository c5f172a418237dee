"""Writes: a unit of work for one tenant and one cause (docs/conventions.md).

    with uow_factory(ctx, cause) as uow:
        reservation = uow.reservations.get(order_id)
        uow.products.move_stock(StockMovement(product_id, -2))
        uow.reservations.save(new_reservation)
        uow.emit(StockReserved(...))
        uow.commit()

`commit()` writes all or nothing, in one transaction: the product changes (each with its
condition: `add` the product is new, `replace` / `delete` it exists (ProductNotFound), a stock
movement the product exists and its stock stays >= 0 (ConcurrentChange)), every reservation read
through the unit of work (still as it was read, else ConcurrentChange; saved, or only checked),
one outbox message per emitted event (tenant_context.outbox_message with the unit of work's
Cause), and, when `cause.event_id` is set, that event's processed marker (EventAlreadyProcessed
when it exists). A reaction that changes nothing still commits: the marker alone. Leaving the
`with` block without `commit()` discards everything."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from pydantic import BaseModel

from product_service.domain.model import Product, Reservation, StockMovement
from tenant_context import Cause, TenantContext


class ProductChanges(Protocol):
    """The tenant's products as the unit of work sees them: reads now, writes at commit."""

    def get(self, product_id: str) -> Product | None: ...

    def stock_of(self, product_ids: Sequence[str]) -> dict[str, int | None]: ...

    def add(self, product: Product) -> None: ...

    def replace(self, product: Product) -> None: ...

    def delete(self, product_id: str) -> None: ...

    def move_stock(self, movement: StockMovement) -> None: ...


class ReservationChanges(Protocol):
    def get(self, order_id: str) -> Reservation | None:
        """The reservation now; commit holds it to this state (None: still none)."""
        ...

    def save(self, reservation: Reservation) -> None:
        """Write it at commit, if the order's reservation is still as `get` read it (a save
        without a `get` expects none)."""
        ...


class UnitOfWork(Protocol):
    @property
    def products(self) -> ProductChanges: ...

    @property
    def reservations(self) -> ReservationChanges: ...

    def emit(self, event: BaseModel) -> None:
        """Publish this event with the changes (its outbox message is written at commit)."""
        ...

    def commit(self) -> None: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: TenantContext, cause: Cause) -> UnitOfWork: ...
