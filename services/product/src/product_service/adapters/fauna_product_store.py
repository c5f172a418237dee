"""ProductStore on Fauna (FQL v10, the `fauna` driver).

Each tenant has its own child database; the store reaches it only through a scoped key
`<secret>:<child db>:server`, so a query can never see another tenant. Collections in the child
database (SCHEMA below): Product, Reservation, ProcessedEvent, Outbox. Every change and its
outbox document are one FQL query, and a query is one transaction."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from product_service.adapters import page_token
from product_service.domain.errors import ConcurrentChange, ProductNotFound
from product_service.domain.model import (
    OrderLine,
    Page,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
)
from product_service.ports.outbox_source import PendingMessage
from product_service.ports.product_store import OutboxMessage, StockCommit
from tenant_context import TenantContext

# FSL the child database carries (applied by the provisioner with the tenant's data space).
SCHEMA = """
collection Product {
  unique [.pid]
  index byPid { terms [.pid] }
  index sortedByPid { values [.pid] }
}
collection Reservation {
  unique [.order_id]
  index byOrderId { terms [.order_id] }
}
collection ProcessedEvent {
  unique [.event_id]
  index byEventId { terms [.event_id] }
}
collection Outbox {
  unique [.event_id]
}
"""

PRODUCT_FIELDS = "{ pid, name, sku, price, stock }"

GET = "Product.byPid(${pid}).first() " + PRODUCT_FIELDS

LIST = (
    "Product.sortedByPid({ from: ${after} }).where(.pid != ${after})"
    ".take(${take}).toArray() " + PRODUCT_FIELDS
)

STOCK_OF = "${pids}.map(pid => Product.byPid(pid).first()?.stock)"

RESERVATION = "Reservation.byOrderId(${order_id}).first() { status, lines }"

IS_PROCESSED = "ProcessedEvent.byEventId(${event_id}).first() != null"

CREATE = """Product.create(${product})
Outbox.create(${outbox})
null"""

REPLACE = """let product = Product.byPid(${pid}).first()
if (product == null) abort("not found")
product!.replace(${product})
Outbox.create(${outbox})
null"""

DELETE = """let product = Product.byPid(${pid}).first()
if (product == null) abort("not found")
product!.delete()
Outbox.create(${outbox})
null"""

# One transaction: the marker, the reservation guard, one guard per line, then the writes.
COMMIT_STOCK = """if (ProcessedEvent.byEventId(${event_id}).first() != null) abort("duplicate")
let current = Reservation.byOrderId(${order_id}).first()
let current_status = if (current == null) null else current!.status
if (current_status != ${expected}) abort("reservation changed")
${movements}.forEach(m => {
  let product = Product.byPid(m.product_id).first()
  if (product == null) abort("stock changed")
  if (product!.stock + m.delta < 0) abort("stock changed")
  product!.update({ stock: product!.stock + m.delta })
})
if (current == null) {
  Reservation.create({ order_id: ${order_id}, status: ${status}, lines: ${lines} })
} else {
  current!.update({ status: ${status}, lines: ${lines} })
}
ProcessedEvent.create({ event_id: ${event_id} })
${outbox}.forEach(o => Outbox.create(o))
null"""

CHILD_DATABASES = "Database.all().toArray() { name }"

PENDING_OUTBOX = (
    # Only this service's documents: the order service keeps its outbox in the same database.
    'Outbox.all().where(.source == "saas.product").order(.ts).take(${take}).toArray() '
    "{ id, event_id, source, detail_type, detail }"
)

RELAYED = """Outbox.byId(${id})?.delete()
null"""

PURGE = """let counts = [Product, Reservation, ProcessedEvent, Outbox].map(c => {
  let docs = c.all().toArray()
  docs.forEach(d => d.delete())
  docs.length
})
counts.fold(0, (a, b) => a + b)"""


class FaunaProductStore:
    def __init__(
        self,
        *,
        secret: str,
        endpoint: str | None = None,
        child_db_pattern: str = "tenant_{tenant_id}",
        role: str = "server",
        http_client: Any = None,
    ) -> None:
        self._secret = secret
        self._endpoint = endpoint
        self._child_db_pattern = child_db_pattern
        self._role = role
        self._http_client = http_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def child_database(self, tenant: TenantContext) -> str:
        # The provisioner creates it under the same pattern (FAUNA_CHILD_DB_PATTERN).
        return self._child_db_pattern.format(tenant_id=tenant.tenant_id)

    def scoped_secret(self, tenant: TenantContext) -> str:
        return f"{self._secret}:{self.child_database(tenant)}:{self._role}"

    def _client(self, child: str | None) -> Any:
        """The client of one child database (scoped key), or of the parent (None)."""
        key = child or ""
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    from fauna.client import Client

                    secret = f"{self._secret}:{child}:{self._role}" if child else self._secret
                    client = Client(
                        endpoint=self._endpoint, secret=secret, http_client=self._http_client
                    )
                    self._clients[key] = client
        return client

    def _query(self, tenant: TenantContext, text: str, **arguments: Any) -> Any:
        return self._run(self.child_database(tenant), text, **arguments)

    def _run(self, child: str | None, text: str, **arguments: Any) -> Any:
        from fauna import fql
        from fauna.errors import AbortError, ContendedTransactionError

        try:
            return self._client(child).query(fql(text, **arguments)).data
        except AbortError as exc:
            raise _Aborted(str(exc.abort)) from None
        except ContendedTransactionError as exc:
            raise ConcurrentChange(f"contended transaction: {exc}") from None

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

    def stock_of(self, tenant: TenantContext, product_ids: list[str]) -> dict[str, int | None]:
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

    # -- writes ------------------------------------------------------------------------------
    def create(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        try:
            self._query(tenant, CREATE, product=_document(product), outbox=_outbox(outbox))
        except _Aborted as exc:
            raise ConcurrentChange(str(exc)) from None

    def replace(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        try:
            self._query(
                tenant, REPLACE, pid=product.id, product=_document(product), outbox=_outbox(outbox)
            )
        except _Aborted:
            raise ProductNotFound(product.id) from None

    def delete(self, tenant: TenantContext, product_id: str, outbox: OutboxMessage) -> None:
        try:
            self._query(tenant, DELETE, pid=product_id, outbox=_outbox(outbox))
        except _Aborted:
            raise ProductNotFound(product_id) from None

    def commit_stock(self, tenant: TenantContext, commit: StockCommit) -> None:
        try:
            self._query(
                tenant,
                COMMIT_STOCK,
                event_id=commit.processed_event_id,
                order_id=commit.reservation.order_id,
                expected=commit.expected.status.value if commit.expected else None,
                status=commit.reservation.status.value,
                lines=[
                    {"product_id": line.product_id, "quantity": line.quantity}
                    for line in commit.reservation.lines
                ],
                movements=[
                    {"product_id": m.product_id, "delta": m.delta} for m in commit.movements
                ],
                outbox=[_outbox(message) for message in commit.outbox],
            )
        except _Aborted as exc:
            raise ConcurrentChange(str(exc)) from None

    def purge(self, tenant: TenantContext) -> int:
        return int(self._query(tenant, PURGE))

    # -- OutboxSource: Fauna has no stream the relay can hang on, so it is polled -----------
    def pending(self, limit: int) -> list[PendingMessage]:
        """Unpublished outbox documents of every tenant's child database (parent key)."""
        prefix = self._child_db_pattern.split("{", 1)[0]
        children = [row["name"] for row in self._run(None, CHILD_DATABASES)]
        found = []
        for child in sorted(c for c in children if c.startswith(prefix)):
            for row in self._run(child, PENDING_OUTBOX, take=limit):
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
        self._run(child, RELAYED, id=document_id)


class _Aborted(Exception):
    """The query called abort(): nothing it did is kept."""


def _document(product: Product) -> dict[str, Any]:
    # Fauna has no decimal type: the price is kept as its two-place text.
    return {
        "pid": product.id,
        "name": product.name,
        "sku": product.sku,
        "price": f"{product.price:.2f}",
        "stock": product.stock,
    }


def _outbox(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "source": message.source,
        "detail_type": message.detail_type,
        "detail": message.detail,
    }


def _product(data: dict[str, Any]) -> Product:
    return Product(
        id=data["pid"],
        name=data["name"],
        sku=data["sku"],
        price=Decimal(data["price"]),
        stock=int(data["stock"]),
    )
