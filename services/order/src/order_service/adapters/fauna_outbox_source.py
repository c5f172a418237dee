"""OutboxSource on Fauna: the order_outbox documents the Fauna unit of work commits.

Fauna has no stream for the relay to ride, so the poller asks, with the parent database's key,
for the tenants' child databases, then reads each one's pending outbox documents: only the
order service's own collection (and, as a second guard, only source saas.order). A document is
deleted once the bus took it; one that failed stays and is read again by the next run
(at-least-once)."""

from __future__ import annotations

from typing import Any

from order_service.adapters.fauna_databases import FaunaTenantDatabases
from order_service.domain.events import SOURCE
from order_service.ports.outbox_source import PendingMessage
from tenant_context import OutboxMessage

CHILD_DATABASES = "Database.all().toArray() { name }"

PENDING = (
    "order_outbox.all().where(.source == ${source}).order(.ts).take(${take}).toArray() "
    "{ id, event_id, source, detail_type, detail }"
)

DONE = """order_outbox.byId(${id})?.delete()
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
