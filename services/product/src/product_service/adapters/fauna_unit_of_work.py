"""UnitOfWork on Fauna: one FQL query per commit, and a query is one transaction.

The query checks every condition first (the marker, each reservation as read, each product to
replace or delete exists, each stock movement keeps its product at or above zero; abort()
otherwise, which keeps nothing), then writes the products, the reservations, the processed
marker (a Fauna `ttl` of 15 days: docs/conventions.md) and one outbox document per event."""

from __future__ import annotations

from typing import Any

from product_service.adapters.fauna_databases import Aborted
from product_service.adapters.fauna_product_store import FaunaProductStore
from product_service.adapters.recording_unit_of_work import Changes, RecordingUnitOfWork
from product_service.domain.errors import ConcurrentChange, EventAlreadyProcessed, ProductNotFound
from product_service.domain.events import SOURCE
from product_service.domain.model import Product
from tenant_context import Cause, OutboxMessage, TenantContext

MARKER_TTL_DAYS = 15  # SQS keeps a message at most 14 days; one day of margin
NOT_FOUND = "not found: "

COMMIT = """if (${marker} != null) {
  if (product_processed_events.byEventId(${marker}).first() != null) abort("duplicate")
}
${reservations}.forEach(r => {
  let current = product_reservations.byOrderId(r.order_id).first()
  let current_status = if (current == null) null else current!.status
  if (current_status != r.expected) abort("reservation changed")
})
${replaced}.forEach(p => {
  let product = product_products.byPid(p.pid).first()
  if (product == null) abort("not found: " + p.pid)
  product!.replace(p)
})
${deleted}.forEach(pid => {
  let product = product_products.byPid(pid).first()
  if (product == null) abort("not found: " + pid)
  product!.delete()
})
${added}.forEach(p => product_products.create(p))
${movements}.forEach(m => {
  let product = product_products.byPid(m.product_id).first()
  if (product == null) abort("stock changed")
  if (product!.stock + m.delta < 0) abort("stock changed")
  product!.update({ stock: product!.stock + m.delta })
})
${reservations}.where(r => r.status != null).forEach(r => {
  let current = product_reservations.byOrderId(r.order_id).first()
  if (current == null) {
    product_reservations.create({ order_id: r.order_id, status: r.status, lines: r.lines })
  } else {
    current!.update({ status: r.status, lines: r.lines })
  }
})
if (${marker} != null) {
  product_processed_events.create({
    event_id: ${marker}, ttl: Time.now().add(${marker_ttl_days}, "days")
  })
}
${outbox}.forEach(o => product_outbox.create(o))
null"""


class FaunaUnitOfWork(RecordingUnitOfWork):
    def __init__(self, store: FaunaProductStore, ctx: TenantContext, cause: Cause) -> None:
        super().__init__(store, ctx, cause, SOURCE)
        self._store = store

    def _write(self, changes: Changes) -> None:
        try:
            self._store.databases.query(self.ctx, COMMIT, **arguments(changes))
        except Aborted as exc:
            reason = str(exc.value)
            if reason == "duplicate" and changes.processed_event_id is not None:
                raise EventAlreadyProcessed(changes.processed_event_id) from None
            if reason.startswith(NOT_FOUND):
                raise ProductNotFound(reason.removeprefix(NOT_FOUND)) from None
            raise ConcurrentChange(reason) from None


def arguments(changes: Changes) -> dict[str, Any]:
    """The COMMIT query's arguments for one commit."""
    return {
        "marker": changes.processed_event_id,
        "marker_ttl_days": MARKER_TTL_DAYS,
        "reservations": [
            {
                "order_id": change.order_id,
                "expected": None if change.expected is None else change.expected.status.value,
                # null: only checked, not written
                "status": change.reservation.status.value
                if change.writes and change.reservation is not None
                else None,
                "lines": [
                    {"product_id": line.product_id, "quantity": line.quantity}
                    for line in (change.reservation.lines if change.reservation else ())
                ],
            }
            for change in changes.reservations
        ],
        "replaced": [document(p) for p in changes.replaced],
        "deleted": list(changes.deleted),
        "added": [document(p) for p in changes.added],
        "movements": [{"product_id": m.product_id, "delta": m.delta} for m in changes.movements],
        "outbox": [outbox_document(m) for m in changes.messages],
    }


def document(product: Product) -> dict[str, Any]:
    # Fauna has no decimal type: the price is kept as its two-place text.
    return {
        "pid": product.id,
        "name": product.name,
        "sku": product.sku,
        "price": f"{product.price:.2f}",
        "stock": product.stock,
    }


def outbox_document(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "source": message.source,
        "detail_type": message.detail_type,
        "detail": message.detail,
    }


class FaunaUnitOfWorkFactory:
    def __init__(self, store: FaunaProductStore) -> None:
        self._store = store

    def __call__(self, ctx: TenantContext, cause: Cause) -> FaunaUnitOfWork:
        return FaunaUnitOfWork(self._store, ctx, cause)
