"""The committed contracts match the code (checked by saas-contracts, the workspace's one
exporter), and every event the service publishes validates against its committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from order_service.domain.events import PUBLISHED
from order_service.domain.order import OrderLine
from saas_devtools.contracts.discovery import service_by_name
from saas_devtools.contracts.export import expected_files
from tenant_context import Cause

WORKSPACE = Path(__file__).resolve().parents[3]
ORDER = service_by_name(WORKSPACE, "order")
CONTRACTS_DIR = ORDER.contracts_dir


def test_the_committed_contracts_match_the_code():
    drifted = [
        str(path.relative_to(CONTRACTS_DIR.parent))
        for path, content in expected_files(ORDER).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]

    assert drifted == [], "run `make contracts` (saas-contracts export) and commit the result"


def test_there_is_one_schema_per_published_event_and_no_stale_one():
    committed = sorted(p.name for p in (CONTRACTS_DIR / "events").glob("*.json"))

    assert committed == sorted(f"{name}.v1.json" for name in PUBLISHED)


@pytest.fixture
def every_event(memory_container, acme):
    """A run that raises each event the service publishes, and OrderCancelled twice."""
    c = memory_container
    orders, reactions = c.orders, c.reactions
    line = [OrderLine(product_id="p-1", quantity=2)]
    confirmed = orders.place(acme, line, Cause())
    reactions.stock_reserved(acme, confirmed.id, Cause(event_id="e-1"))
    orders.cancel(acme, confirmed.id, Cause())
    rejected = orders.place(acme, line, Cause())
    reactions.stock_reservation_rejected(acme, rejected.id, "p-1: short", Cause(event_id="e-2"))
    late = orders.place(acme, line, Cause())
    orders.cancel(acme, late.id, Cause())
    reactions.stock_reserved(acme, late.id, Cause(event_id="e-3"))
    return c.memory_store.outbox


def test_every_published_event_validates_against_its_schema(every_event):
    assert {m.detail_type for m in every_event} == set(PUBLISHED)
    for message in every_event:
        schema = json.loads(
            (CONTRACTS_DIR / "events" / f"{message.detail_type}.v1.json").read_text()
        )
        jsonschema.validate(message.detail["data"], schema)
        assert message.detail["metadata"]["event_version"] == 1


def test_the_schema_refuses_what_the_consumers_could_not_read():
    schema = json.loads((CONTRACTS_DIR / "events" / "OrderPlaced.v1.json").read_text())

    with pytest.raises(jsonschema.ValidationError, match="quantity"):
        jsonschema.validate({"order_id": "o-1", "lines": [{"product_id": "p-1"}]}, schema)
