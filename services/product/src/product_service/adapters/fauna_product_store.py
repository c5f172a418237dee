"""ProductStore on Fauna (FQL v10, the `fauna` driver): reads, the tenant purge, and the
polled outbox (OutboxSource). Writes: fauna_unit_of_work.py.

Each tenant has its own child database, reached through fauna_databases.py (scoped key, the
schema applied on first use). The collections are the product service's own (fauna_schema.py):
product_products, product_reservations, product_processed_events, product_outbox."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from product_service.adapters import page_token
from product_service.adapters.fauna_databases import FaunaDatabases
from product_service.domain.model import (
    OrderLine,
    Page,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
)
from product_service.ports.outbox_source import PendingMessage
from tenant_context import OutboxMessage, TenantContext

PRODUCT_FIELDS = "{ pid, name, sku, price, stock }"

GET = "product_products.byPid(${pid}).first() " + PRODUCT_FIELDS

LIST = (
    "product_products.sortedByPid({ from: ${after} }).where(.pid != ${after})"
    ".take(${take}).toArray() " + PRODUCT_FIELDS
)

STOCK_OF = "${pids}.map(pid => product_products.byPid(pid).first()?.stock)"

RESERVATION = "product_reservations.byOrderId(${order_id}).first() { status, lines }"

IS_PROCESSED = "product_processed_events.byEventId(${event_id}).first() != null"

PENDING_OUTBOX = (
    "product_outbox.all().order(.ts).take(${take}).toArray() "
    "{ id, event_id, source, detail_type, detail }"
)

RELAYED = """product_outbox.byId(${id})?.delete()
null"""

# The product service's collections only: another service's documents in the same child
# database (its orders, its processed-event markers) are not this service's to delete.
PURGE = """let collections = [
  product_products, product_reservations, product_processed_events, product_outbox
]
let counts = collections.map(c => {
  let docs = c.all().toArray()
  docs.forEach(d => d.delete())
  docs.length
})
counts.fold(0, (a, b) => a + b)"""


class FaunaProductStore:
    def __init__(self, databases: FaunaDatabases) -> None:
        self.databases = databases

    def scoped_secret(self, tenant: TenantContext) -> str:
        return self.databases.scoped_secret(tenant)

    def _query(self, tenant: TenantContext, text: str, **arguments: Any) -> Any:
        return self.databases.query(tenant, text, **arguments)

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant: TenantContext, product_id: str) -> Product | None:
        data = self._query(tenant, GET, pid=product_id)
        return _product(data) if data else None

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        after = ""
        if page.next_token:
            after = page_token.decode(
                page.next_token, required={"tenant": tenant.tenant_id}, prefixes={"after": ""}
            )["after"]
        rows = self._query(tenant, LIST, after=after, take=page.limit + 1)
        products = tuple(_product(row) for row in rows[: page.limit])
        token = None
        if len(rows) > page.limit:
            token = page_token.encode({"tenant": tenant.tenant_id, "after": products[-1].id})
        return Page(items=products, next_token=token)

    def stock_of(self, tenant: TenantContext, product_ids: Sequence[str]) -> dict[str, int | None]:
        values = self._query(tenant, STOCK_OF, pids=list(product_ids))
        return {
            pid: (None if value is None else int(value))
            for pid, value in zip(product_ids, values, strict=True)
        }

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None:
        data = self._query(tenant, RESERVATION, order_id=order_id)
        if not data:
            return None
        lines = tuple(
            OrderLine(line["product_id"], int(line["quantity"])) for line in data["lines"]
        )
        return Reservation(order_id, ReservationStatus(data["status"]), lines)

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool:
        return bool(self._query(tenant, IS_PROCESSED, event_id=event_id))

    def purge(self, tenant: TenantContext) -> int:
        return int(self._query(tenant, PURGE))

    # -- OutboxSource: Fauna has no stream the relay can hang on, so it is polled -----------
    def pending(self, limit: int) -> list[PendingMessage]:
        """Unpublished outbox documents of every tenant's child database (parent key)."""
        found = []
        for child in self.databases.children():
            for row in self.databases.query_child(child, PENDING_OUTBOX, take=limit):
                message = OutboxMessage(
                    event_id=row["event_id"],
                    source=row["source"],
                    detail_type=row["detail_type"],
                    detail=dict(row["detail"]),
                )
                found.append(PendingMessage(key=f"{child}/{row['id']}", message=message))
        return found

    def done(self, key: str) -> None:
        child, document_id = key.split("/", 1)
        self.databases.query_child(child, RELAYED, id=document_id)


def _product(data: dict[str, Any]) -> Product:
    return Product(
        id=data["pid"],
        name=data["name"],
        sku=data["sku"],
        price=Decimal(data["price"]),
        stock=int(data["stock"]),
    )
