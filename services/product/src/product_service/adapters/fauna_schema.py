"""The product service's Fauna schema: its own collections in each tenant's child database,
declared here and nowhere else, named after the service so no other service's documents share
them (docs/conventions.md, "Fauna: each service owns its schema").

The service applies it itself, on first use of a tenant's child database (fauna_databases.py):
a service deploys alone, and its schema must reach the tenants that exist already without a
provisioning run. APPLY is one idempotent query that creates only the collections missing."""

from __future__ import annotations

from typing import Any

PRODUCTS = "product_products"
RESERVATIONS = "product_reservations"
OUTBOX = "product_outbox"
PROCESSED_EVENTS = "product_processed_events"


def _terms(field: str) -> dict[str, Any]:
    return {"terms": [{"field": field}]}


COLLECTIONS: tuple[dict[str, Any], ...] = (
    {
        "name": PRODUCTS,
        "indexes": {"byPid": _terms(".pid"), "sortedByPid": {"values": [{"field": ".pid"}]}},
        "constraints": [{"unique": [".pid"]}],
    },
    {
        "name": RESERVATIONS,
        "indexes": {"byOrderId": _terms(".order_id")},
        "constraints": [{"unique": [".order_id"]}],
    },
    {
        # Unique per event_id within this collection only: another service consuming the same
        # event keeps its own marker in its own collection.
        "name": PROCESSED_EVENTS,
        "indexes": {"byEventId": _terms(".event_id")},
        "constraints": [{"unique": [".event_id"]}],
    },
    {
        "name": OUTBOX,
        "constraints": [{"unique": [".event_id"]}],
    },
)

NAMES: tuple[str, ...] = tuple(c["name"] for c in COLLECTIONS)

# The collections created, by name (none when the database already had them all).
APPLY = """${collections}.map(c => {
  if (Collection.byName(c.name) == null) {
    Collection.create(c)
    c.name
  } else {
    null
  }
}).where(name => name != null)"""
