"""Stock use cases driven by the order saga: reserve on OrderPlaced, release on OrderCancelled,
purge on TenantDeprovisioned. Idempotent by event_id (the unit of work writes the event's
processed marker with the effect) and safe against reordering (a cancel that arrives first
leaves a tombstone). An order naming a product the tenant does not have is rejected, the
unknown product ids in the reason: the order service accepts any order and relies on this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from pydantic import BaseModel

from product_service.domain.errors import ConcurrentChange, EventAlreadyProcessed, TooManyLines
from product_service.domain.events import (
    StockReleased,
    StockReservationRejected,
    StockReserved,
)
from product_service.domain.model import (
    MAX_ORDER_LINES,
    OrderLine,
    Reservation,
    ReservationDecision,
    ReservationStatus,
    decide_reservation,
    merge_lines,
    release_movements,
)
from product_service.ports.product_store import ProductStore
from product_service.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tenant_context import Cause, TenantContext

# Under contention a conditional write can lose many races in a row (200 buyers, one product);
# each retry re-reads, so the bound only stops a livelock, it never decides an outcome.
MAX_ATTEMPTS = 500


class Outcome(StrEnum):
    RESERVED = "reserved"
    REJECTED = "rejected"
    RELEASED = "released"
    NOTHING_TO_RELEASE = "nothing_to_release"
    TOMBSTONED = "tombstoned"  # cancel arrived before the order: later OrderPlaced reserves none
    DUPLICATE = "duplicate"  # this event_id was processed before: nothing changes


class StockKeeper:
    def __init__(
        self,
        store: ProductStore,
        uow: UnitOfWorkFactory,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._store = store
        self._uow = uow
        self._max_attempts = max_attempts

    def reserve(
        self, tenant: TenantContext, cause: Cause, order_id: str, lines: Sequence[OrderLine]
    ) -> Outcome:
        merged = merge_lines(lines)

        def attempt() -> Outcome:
            with self._uow(tenant, cause) as uow:
                if uow.reservations.get(order_id) is not None:
                    # A tombstone, or the same order delivered again under another event id:
                    # the event is marked processed, the reservation held as it is.
                    uow.commit()
                    return Outcome.DUPLICATE
                decision = self._decide(uow, order_id, merged)
                event: BaseModel
                if decision.reserved:
                    event = StockReserved.of(order_id, decision.movements)
                else:
                    event = StockReservationRejected.of(
                        order_id, decision.reason or "rejected", decision.short_lines
                    )
                for movement in decision.movements:
                    uow.products.move_stock(movement)
                uow.reservations.save(decision.reservation)
                uow.emit(event)
                uow.commit()
            return Outcome.RESERVED if decision.reserved else Outcome.REJECTED

        return self._retrying(attempt)

    def release(self, tenant: TenantContext, cause: Cause, order_id: str) -> Outcome:
        def attempt() -> Outcome:
            with self._uow(tenant, cause) as uow:
                existing = uow.reservations.get(order_id)
                if existing is None:
                    uow.reservations.save(Reservation(order_id, ReservationStatus.CANCELLED))
                    uow.commit()
                    return Outcome.TOMBSTONED
                movements = release_movements(existing)
                if not movements:
                    uow.commit()  # the marker alone
                    return Outcome.NOTHING_TO_RELEASE
                # A product deleted since the reservation has nothing to give stock back to.
                stock = uow.products.stock_of([m.product_id for m in movements])
                kept = tuple(m for m in movements if stock.get(m.product_id) is not None)
                for movement in kept:
                    uow.products.move_stock(movement)
                uow.reservations.save(
                    Reservation(order_id, ReservationStatus.RELEASED, existing.lines)
                )
                uow.emit(StockReleased.of(order_id, kept))
                uow.commit()
            return Outcome.RELEASED

        return self._retrying(attempt)

    def purge(self, tenant: TenantContext) -> int:
        return self._store.purge(tenant)

    @staticmethod
    def _decide(
        uow: UnitOfWork, order_id: str, merged: tuple[OrderLine, ...]
    ) -> ReservationDecision:
        if len(merged) > MAX_ORDER_LINES:
            # Refused, not failed: the order must still hear back, or it stays PENDING forever.
            reason = str(TooManyLines(len(merged), MAX_ORDER_LINES))
            return ReservationDecision(
                Reservation(order_id, ReservationStatus.REJECTED), reason=reason
            )
        stock = uow.products.stock_of([line.product_id for line in merged])
        return decide_reservation(order_id, merged, stock)

    def _retrying(self, attempt: Callable[[], Outcome]) -> Outcome:
        for remaining in range(self._max_attempts - 1, -1, -1):
            try:
                return attempt()
            except EventAlreadyProcessed:
                return Outcome.DUPLICATE
            except ConcurrentChange:
                if not remaining:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")
