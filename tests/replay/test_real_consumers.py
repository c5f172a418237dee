"""Replay into a real consumer of the workspace, in process, on its in-memory adapters.

Given the product service's catalogue holding a tenant's products, when the tenant's order
events are replayed into `product:consumer` with `--memory` (listed out of order), then stock
ends as the saga left it, and replaying the whole history a second time changes nothing: the
consumer is idempotent by event id and replay order is occurred_at.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from saas_devtools.replay import cli
from tenant_context import RegionGroup, Role, TenantContext, Tier

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_replaying_a_tenants_history_twice_into_the_product_consumer_leaves_the_same_stock(
    make_event,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The environment first: the handler's Logger and Metrics read theirs when first imported.
    monkeypatch.setenv("BACKEND", "memory")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "replay-tests")
    products = pytest.importorskip("product_service.container")
    pytest.importorskip("product_service.entrypoints.consumer")
    products.use_container(None)  # a fresh process-wide container, from this environment
    request.addfinalizer(lambda: products.use_container(None))
    catalogue = products.container().catalogue
    tenant = TenantContext(
        tenant_id="t-replay",
        role=Role.TENANT_ADMIN,
        user_id="u-1",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
    )
    lamp = catalogue.create(tenant, name="Lamp", sku="L-1", price=Decimal("12.50"), stock=10)
    desk = catalogue.create(tenant, name="Desk", sku="D-1", price=Decimal("99.00"), stock=5)
    first = [{"product_id": lamp.id, "quantity": 2}, {"product_id": desk.id, "quantity": 1}]
    second = [{"product_id": lamp.id, "quantity": 3}]
    history = [
        make_event(
            "saas.order",
            "OrderPlaced",
            {"order_id": "o-1", "lines": first},
            tenant_id="t-replay",
            at=START,
        ),
        make_event(
            "saas.order",
            "OrderPlaced",
            {"order_id": "o-2", "lines": second},
            tenant_id="t-replay",
            at=START + timedelta(minutes=1),
        ),
        make_event(
            "saas.order",
            "OrderCancelled",
            {"order_id": "o-1", "lines": first},
            tenant_id="t-replay",
            at=START + timedelta(minutes=5),
        ),
    ]
    listed = tmp_path / "t-replay.jsonl"
    listed.write_text("".join(json.dumps(e) + "\n" for e in reversed(history)))
    replay = [
        "--tenant",
        "t-replay",
        "--events",
        str(listed),
        "--into",
        "product:consumer",
        "--memory",
        "--workspace",
        str(ROOT),
    ]
    store = products.container().store

    assert cli.main(replay) == 0
    once = store.stock_of(tenant, [lamp.id, desk.id])
    assert cli.main(replay) == 0
    twice = store.stock_of(tenant, [lamp.id, desk.id])

    assert once == twice == {lamp.id: 7, desk.id: 5}
    assert capsys.readouterr().err.count("3 ok, 0 failed") == 2
