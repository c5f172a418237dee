"""The committed contracts are what the code produces (saas-contracts' export and drift check,
the workspace's one contract tool), and every event the service publishes validates against its
committed JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import jsonschema

from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.domain.events import PUBLISHED
from product_service.domain.model import OrderLine
from saas_devtools.contracts.discovery import Service, service_by_name
from saas_devtools.contracts.export import Drift, check, expected_files
from tenant_context import Cause, TenantContext, read_envelope

from . import conftest

WORKSPACE = Path(__file__).resolve().parents[3]
CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"


def _product_service(workspace: Path = WORKSPACE) -> Service:
    return service_by_name(workspace, "product")


def test_the_committed_contracts_match_the_code() -> None:
    service = _product_service()
    assert service.contracts_dir == CONTRACTS_DIR

    stale = [
        path
        for path, content in expected_files(service).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]

    assert stale == [], "run `make contracts` (saas-contracts export) and commit the result"


def test_the_drift_check_notices_a_changed_file(tmp_path: Path) -> None:
    # Given a workspace holding the product service with its contracts as the code writes them
    package = tmp_path / "services" / "product" / "src" / "product_service"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    service = _product_service(tmp_path)
    for path, content in expected_files(service).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert check(tmp_path) == []

    # When one committed schema is edited by hand
    schema = service.contracts_dir / "events" / "StockReserved.v1.json"
    schema.write_text(schema.read_text().replace('"order_id"', '"orderId"'), encoding="utf-8")

    assert check(tmp_path) == [Drift(schema, "differs")]


def test_every_published_event_validates_against_its_exported_schema(
    make_tenant: Callable[..., TenantContext],
) -> None:
    # Given the service doing everything that publishes an event
    store = MemoryProductStore()
    who = make_tenant()
    catalogue, keeper = conftest.catalogue(store), conftest.stock_keeper(store)
    product = catalogue.create(who, name="Mug", sku="M-1", price=Decimal("12.5"), stock=3)
    catalogue.replace(who, product.id, name="Mug", sku="M-1", price=Decimal("13"), stock=3)
    keeper.reserve(
        who, Cause(correlation_id="c1", event_id="e1"), "o-1", [OrderLine(product.id, 2)]
    )
    keeper.reserve(
        who, Cause(correlation_id="c2", event_id="e2"), "o-2", [OrderLine(product.id, 5)]
    )
    keeper.release(who, Cause(correlation_id="c1", event_id="e3"), "o-1")
    catalogue.delete(who, product.id)

    # Then each event's data validates against the committed schema of its detail-type
    published = {message.detail_type for message in store.outbox}
    assert published == set(PUBLISHED)
    for message in store.outbox:
        envelope = read_envelope(message.detail)
        version = envelope.metadata.event_version
        path = CONTRACTS_DIR / "events" / f"{message.detail_type}.v{version}.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(envelope.data, schema)
        assert message.source == "saas.product"
        assert envelope.metadata.producer == "saas.product"


def test_a_price_travels_as_text_with_two_places() -> None:
    schema = json.loads(
        (CONTRACTS_DIR / "events" / "ProductCreated.v1.json").read_text(encoding="utf-8")
    )
    good = {"product_id": "p", "name": "n", "sku": "s", "price": "12.50", "stock": 1}

    jsonschema.validate(good, schema)
    for bad_price in (12.5, "12.5", "-1.00"):
        try:
            jsonschema.validate({**good, "price": bad_price}, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"price {bad_price!r} should not validate")
