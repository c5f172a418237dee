"""Stock use cases driven by the order saga: reserve on OrderPlaced, release on OrderCancelled,
purge on TenantDeprovisioned. Idempotent by event_id (the marker is written with the effect)
and safe against reordering (a cancel that arrives first leaves a tombstone)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from product_service.app.catalogue import outbox_message
from product_service.domain.errors import ConcurrentChange, TooManyLines
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
from product_service.ports.product_store import OutboxMessage, ProductStore, StockCommit
from tenant_context import TenantContext

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


@dataclass(frozen=True, slots=True)
class EventCause:
    """The event being handled: its id marks it processed; its correlation id is passed on."""

    event_id: str
    correlation_id: str


class StockKeeper:
    def __init__(self, store: ProductStore, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._store = store
        self._max_attempts = max_attempts

    def reserve(
        self, tenant: TenantContext, cause: EventCause, order_id: str, lines: Sequence[OrderLine]
    ) -> Outcome:
        merged = merge_lines(lines)

        def attempt() -> Outcome:
            if self._store.is_processed(tenant, cause.event_id):
                return Outcome.DUPLICATE
            existing = self._store.reservation(tenant, order_id)
            if existing is not None:
                # A tombstone, or the same order delivered again under another event id.
                self._mark(tenant, cause, existing)
                return Outcome.DUPLICATE
            decision = self._decide(tenant, order_id, merged)
            event: BaseModel
            if decision.reserved:
                event = StockReserved.of(order_id, decision.movements)
            else:
                event = StockReservationRejected.of(
                    order_id, decision.reason or "rejected", decision.short_lines
                )
            self._store.commit_stock(
                tenant,
                StockCommit(
                    processed_event_id=cause.event_id,
                    expected=None,
                    reservation=decision.reservation,
                    movements=decision.movements,
                    outbox=(self._message(tenant, cause, event),),
                ),
            )
            return Outcome.RESERVED if decision.reserved else Outcome.REJECTED

        return self._retrying(attempt)

    def release(self, tenant: TenantContext, cause: EventCause, order_id: str) -> Outcome:
        def attempt() -> Outcome:
            if self._store.is_processed(tenant, cause.event_id):
                return Outcome.DUPLICATE
            existing = self._store.reservation(tenant, order_id)
            if existing is None:
                self._store.commit_stock(
                    tenant,
                    StockCommit(
                        processed_event_id=cause.event_id,
                        expected=None,
                        reservation=Reservation(order_id, ReservationStatus.CANCELLED),
                    ),
                )
                return Outcome.TOMBSTONED
            movements = release_movements(existing)
            if not movements:
                self._mark(tenant, cause, existing)
                return Outcome.NOTHING_TO_RELEASE
            # A product deleted since the reservation has nothing to give stock back to.
            stock = self._store.stock_of(tenant, [m.product_id for m in movements])
            kept = tuple(m for m in movements if stock.get(m.product_id) is not None)
            self._store.commit_stock(
                tenant,
                StockCommit(
                    processed_event_id=cause.event_id,
                    expected=existing,
                    reservation=Reservation(order_id, ReservationStatus.RELEASED, existing.lines),
                    movements=kept,
                    outbox=(self._message(tenant, cause, StockReleased.of(order_id, kept)),),
                ),
            )
            return Outcome.RELEASED

        return self._retrying(attempt)

    def _decide(
        self, tenant: TenantContext, order_id: str, merged: tuple[OrderLine, ...]
    ) -> ReservationDecision:
        if len(merged) > MAX_ORDER_LINES:
            # Refused, not failed: the order must still hear back, or it stays PENDING forever.
            reason = str(TooManyLines(len(merged), MAX_ORDER_LINES))
            return ReservationDecision(
                Reservation(order_id, ReservationStatus.REJECTED), reason=reason
            )
        stock = self._store.stock_of(tenant, [line.product_id for line in merged])
        return decide_reservation(order_id, merged, stock)

    def purge(self, tenant: TenantContext) -> int:
        return self._store.purge(tenant)

    def _mark(self, tenant: TenantContext, cause: EventCause, unchanged: Reservation) -> None:
        """Record the event as processed, changing nothing else (guarded by `unchanged`)."""
        self._store.commit_stock(
            tenant,
            StockCommit(
                processed_event_id=cause.event_id, expected=unchanged, reservation=unchanged
            ),
        )

    @staticmethod
    def _message(tenant: TenantContext, cause: EventCause, event: BaseModel) -> OutboxMessage:
        return outbox_message(
            tenant,
            event,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
        )

    def _retrying(self, attempt: Callable[[], Outcome]) -> Outcome:
        for _ in range(self._max_attempts - 1):
            try:
                return attempt()
            except ConcurrentChange:
                continue
        return attempt()
