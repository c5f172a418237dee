"""OutboxSource on Fauna: the outbox documents FaunaOrderRepository commits with each change.

Fauna has no stream for the relay to ride, so the poller asks, with the parent database's key,
for the tenants' child databases, then reads each one's pending outbox documents. Only this
service's documents (source saas.order) are read: a tenant's database may hold other services'
outbox documents, which their own pollers relay. A document is deleted once the bus took it;
one that failed stays and is read again by the next run (at-least-once)."""

from __future__ import annotations

from typing import Any

from order_service.adapters.fauna_databases import FaunaTenantDatabases
from order_service.adapters.fauna_order_repository import SOURCE
from order_service.ports.outbox import OutboxMessage
from order_service.ports.outbox_source import PendingMessage

CHILD_DATABASES = "Database.all().toArray() { name }"

PENDING = (
    "Outbox.all().where(.source == ${source}).order(.ts).take(${take}).toArray() "
    "{ id, event_id, source, detail_type, detail }"
)

DONE = """Outbox.byId(${id})?.delete()
null"""


class FaunaOutboxSource:
    def __init__(self, databases: FaunaTenantDatabases) -> None:
        self._db = databases

    def pending(self, limit: int) -> list[PendingMessage]:
        """Unpublished outbox documents of every tenant's child database, oldest first."""
        prefix = self._db.child_prefix()
        children = [row["name"] for row in self._db.query_database(None, CHILD_DATABASES)]
        found = []
        for child in sorted(c for c in children if c.startswith(prefix)):
            for row in self._db.query_database(child, PENDING, source=SOURCE, take=limit):
                found.append(PendingMessage(key=f"{child}/{row['id']}", message=_message(row)))
        return found

    def done(self, key: str) -> None:
        child, document_id = key.split("/", 1)
        self._db.query_database(child, DONE, id=document_id)


def _message(row: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        event_id=row["event_id"],
        source=row["source"],
        detail_type=row["detail_type"],
        detail=dict(row["detail"]),
    )
