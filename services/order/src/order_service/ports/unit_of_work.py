"""Writes: one unit of work per use case, for one tenant and one cause.

`commit()` writes, all or nothing: every order the unit of work saw that changed (conditional
on the version it was read at: ConcurrentUpdate otherwise) and every order added (ConcurrentUpdate
when its id exists), one outbox message per event those orders raised plus any given to
`emit`, built with the unit of work's Cause, and, when `cause.event_id` is set, that event's
processed marker (EventAlreadyProcessed when it exists). Leaving the `with` block without
`commit()` discards everything."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from order_service.domain.events import OrderEvent
from order_service.domain.order import Order
from tenant_context import Cause, TenantContext


class TenantOrders(Protocol):
    """The orders of the unit of work's tenant, as the unit of work sees them."""

    def get(self, order_id: str) -> Order | None:
        """The order (read now, tracked for commit), or None."""
        ...

    def add(self, order: Order) -> None:
        """A new order, written at commit."""
        ...


class UnitOfWork(Protocol):
    @property
    def orders(self) -> TenantOrders: ...

    def emit(self, event: OrderEvent) -> None:
        """An event raised by no order, published with the commit."""
        ...

    def commit(self) -> None: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: TenantContext, cause: Cause) -> UnitOfWork: ...
