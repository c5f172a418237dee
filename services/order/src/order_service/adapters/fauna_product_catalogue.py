"""ProductCatalogue on Fauna: KnownProduct documents in the tenant's child database, with a
tombstone on delete so a ProductCreated delivered after its ProductDeleted changes nothing."""

from __future__ import annotations

from collections.abc import Iterable

from order_service.adapters.fauna_databases import FaunaTenantDatabases
from tenant_context import TenantContext

RECORD_CREATED = """if (KnownProduct.byPid(${pid}).first() == null) {
  KnownProduct.create({ pid: ${pid}, deleted: false })
}
null"""

RECORD_DELETED = """let known = KnownProduct.byPid(${pid}).first()
if (known == null) {
  KnownProduct.create({ pid: ${pid}, deleted: true })
} else {
  known!.update({ deleted: true })
}
null"""

# A product is known when it has a document that is not a tombstone.
UNKNOWN = "${pids}.where(pid => KnownProduct.byPid(pid).first()?.deleted != false)"


class FaunaProductCatalogue:
    def __init__(self, databases: FaunaTenantDatabases) -> None:
        self._db = databases

    def record_created(self, ctx: TenantContext, product_id: str) -> None:
        self._db.query(ctx, RECORD_CREATED, pid=product_id)

    def record_deleted(self, ctx: TenantContext, product_id: str) -> None:
        self._db.query(ctx, RECORD_DELETED, pid=product_id)

    def unknown(self, ctx: TenantContext, product_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(product_ids))
        return set(self._db.query(ctx, UNKNOWN, pids=wanted)) if wanted else set()
