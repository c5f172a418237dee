"""The unit of work on Fauna: a commit is one FQL query, so one transaction.

The marker is checked first (abort "duplicate": EventAlreadyProcessed), then every added order
must not exist and every changed one must still have the version it was read at (abort
"changed", or a unique constraint refusing a concurrent insert: ConcurrentUpdate). Markers
expire after MARKER_TTL_DAYS (a Fauna document ttl); outbox documents are deleted by the poller
once published."""

from __future__ import annotations

from typing import Any

from order_service.adapters.fauna_databases import FaunaAborted, FaunaTenantDatabases
from order_service.adapters.fauna_order_repository import (
    GET,
    order_document,
    order_from_document,
)
from order_service.adapters.tracking_unit_of_work import Changes, TrackingUnitOfWork
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from order_service.domain.order import Order
from tenant_context import Cause, OutboxMessage, TenantContext

# SQS keeps a message at most 14 days, so no redelivery comes later; one day of margin.
MARKER_TTL_DAYS = 15

COMMIT = """let event_id = ${event_id}
if (event_id != null && order_processed_events.byEventId(event_id).first() != null) abort("duplicate")
if (${added}.any(o => order_orders.byOrderId(o.order_id).first() != null)) abort("changed")
if (${changed}.any(c => order_orders.byOrderId(c.order.order_id).first()?.version != c.read)) abort("changed")
${added}.forEach(o => order_orders.create(o))
${changed}.forEach(c => order_orders.byOrderId(c.order.order_id).first()!.replace(c.order))
if (event_id != null) order_processed_events.create({ event_id: event_id, ttl: Time.now().add(${marker_days}, "days") })
${outbox}.forEach(o => order_outbox.create(o))
null"""  # noqa: E501


class FaunaUnitOfWork(TrackingUnitOfWork):
    def __init__(self, databases: FaunaTenantDatabases, ctx: TenantContext, cause: Cause) -> None:
        super().__init__(ctx, cause)
        self._db = databases

    def _load(self, order_id: str) -> Order | None:
        data = self._db.query(self.ctx, GET, order_id=order_id)
        return order_from_document(data) if data else None

    def _write(self, changes: Changes) -> None:
        try:
            self._db.query(
                self.ctx,
                COMMIT,
                event_id=changes.processed_event_id,
                added=[order_document(o, version=1) for o in changes.added],
                changed=[
                    {"read": o.version, "order": order_document(o, version=o.version + 1)}
                    for o in changes.changed
                ],
                marker_days=MARKER_TTL_DAYS,
                outbox=[outbox_document(m) for m in changes.outbox],
            )
        except FaunaAborted as exc:
            if str(exc) == "duplicate":
                raise EventAlreadyProcessed("the event was already processed") from None
            raise ConcurrentUpdate("the order changed since it was read, or exists") from None


class FaunaUnitOfWorkFactory:
    def __init__(self, databases: FaunaTenantDatabases) -> None:
        self._db = databases

    def __call__(self, ctx: TenantContext, cause: Cause) -> FaunaUnitOfWork:
        return FaunaUnitOfWork(self._db, ctx, cause)


def outbox_document(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "source": message.source,
        "detail_type": message.detail_type,
        "detail": message.detail,
    }
