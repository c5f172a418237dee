"""The order service's collections in a tenant's Fauna child database, declared here only.

The service applies them itself, on the first query it sends to a tenant's database from a warm
container (FaunaTenantDatabases): one idempotent query that creates only the collections that
are missing. A service deploys alone, so a new collection or index reaches existing tenants with
the service's own deployment, without a provisioning run; the provisioner creates the child
database and its scoped key (role `server`, which may manage collections) and nothing in it.

Every name starts with `order_`: the product service keeps its own collections in the same
database, and a purge touches only these (PURGE in fauna_order_repository)."""

from __future__ import annotations

from typing import Any

ORDERS = "order_orders"
OUTBOX = "order_outbox"
PROCESSED_EVENTS = "order_processed_events"

COLLECTIONS: tuple[dict[str, Any], ...] = (
    {
        "name": ORDERS,
        "indexes": {
            "byOrderId": {"terms": [{"field": ".order_id"}]},
            # GET /orders, newest first: `placed` is the time placed, then the id.
            "sortedByPlaced": {"values": [{"field": ".placed", "order": "desc"}]},
        },
        "constraints": [{"unique": [".order_id"]}],
    },
    {
        "name": PROCESSED_EVENTS,
        "indexes": {"byEventId": {"terms": [{"field": ".event_id"}]}},
        # Unique within this collection only: another service's marker of the same event lives
        # in that service's own collection and never makes this one a duplicate.
        "constraints": [{"unique": [".event_id"]}],
    },
    {"name": OUTBOX, "constraints": [{"unique": [".event_id"]}]},
)

# Creates what is missing and leaves what exists; the answer names the collections created.
ENSURE = (
    "${collections}.where(c => Collection.byName(c.name) == null)"
    ".map(c => Collection.create(c).name)"
)
