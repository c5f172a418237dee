"""The committed contracts are what the code produces, and every event the service publishes
validates against its committed JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import jsonschema

from product_service import contracts
from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.app.catalogue import Catalogue
from product_service.app.stock import EventCause, StockKeeper
from product_service.domain.events import PUBLISHED
from product_service.domain.model import OrderLine
from tenant_context import TenantContext, read_envelope


def test_the_committed_contracts_match_the_code() -> None:
    stale = contracts.drifted()

    assert stale == [], "run `python -m product_service.contracts` and commit the result"


def test_the_drift_check_notices_a_changed_file(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    for path, content in contracts.expected_files(directory).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    schema = directory / "events" / "StockReserved.v1.json"
    schema.write_text(schema.read_text().replace('"order_id"', '"orderId"'), encoding="utf-8")

    assert contracts.drifted(directory) == [schema]


def test_every_published_event_validates_against_its_exported_schema(
    make_tenant: Callable[..., TenantContext],
) -> None:
    # Given the service doing everything that publishes an event
    store = MemoryProductStore()
    who = make_tenant()
    catalogue, keeper = Catalogue(store), StockKeeper(store)
    product = catalogue.create(who, name="Mug", sku="M-1", price=Decimal("12.5"), stock=3)
    catalogue.replace(who, product.id, name="Mug", sku="M-1", price=Decimal("13"), stock=3)
    keeper.reserve(who, EventCause("e1", "c1"), "o-1", [OrderLine(product.id, 2)])
    keeper.reserve(who, EventCause("e2", "c2"), "o-2", [OrderLine(product.id, 5)])
    keeper.release(who, EventCause("e3", "c1"), "o-1")
    catalogue.delete(who, product.id)

    # Then each event's data validates against the committed schema of its detail-type
    published = {message.detail_type for message in store.outbox}
    assert published == set(PUBLISHED)
    for message in store.outbox:
        envelope = read_envelope(message.detail)
        version = envelope.metadata.event_version
        path = contracts.CONTRACTS_DIR / "events" / f"{message.detail_type}.v{version}.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(envelope.data, schema)
        assert message.source == "saas.product"
        assert envelope.metadata.producer == "saas.product"


def test_a_price_travels_as_text_with_two_places() -> None:
    schema = json.loads(
        (contracts.CONTRACTS_DIR / "events" / "ProductCreated.v1.json").read_text(encoding="utf-8")
    )
    good = {"product_id": "p", "name": "n", "sku": "s", "price": "12.50", "stock": 1}

    jsonschema.validate(good, schema)
    for bad_price in (12.5, "12.5", "-1.00"):
        try:
            jsonschema.validate({**good, "price": bad_price}, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"price {bad_price!r} should not validate")
