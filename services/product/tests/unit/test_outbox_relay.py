"""The outbox relay on fakes: the polled outbox (Fauna backend) loses nothing when the bus
fails; the streamed one reports exactly the messages the bus did not take."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from product_service.adapters.memory_event_publisher import MemoryEventPublisher
from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.app.outbox_relay import OutboxRelay
from product_service.entrypoints import outbox_poller
from tenant_context import TenantContext

from .. import conftest  # noqa: TID252


def _three_products(store: MemoryProductStore, who: TenantContext) -> None:
    for name in ("a", "b", "c"):
        conftest.catalogue(store).create(who, name=name, sku=name, price=Decimal("1.00"), stock=1)


def test_pending_events_are_published_once_and_then_no_longer_pending(
    make_tenant: Callable[..., TenantContext],
) -> None:
    store, bus = MemoryProductStore(), MemoryEventPublisher()
    _three_products(store, make_tenant())
    relay = OutboxRelay(bus, store)

    first, second = relay.relay(), relay.relay()

    assert (first.published, second.published) == (3, 0)
    assert [m.detail["data"]["name"] for m in bus.published] == ["a", "b", "c"]


def test_a_bus_failure_keeps_the_event_pending_until_it_recovers(
    make_tenant: Callable[..., TenantContext],
) -> None:
    store, bus = MemoryProductStore(), MemoryEventPublisher()
    _three_products(store, make_tenant())
    bus.failures_left = 2  # the bus refuses the first two publishes

    down = OutboxRelay(bus, store).relay()
    up = OutboxRelay(bus, store).relay()

    assert (down.published, len(down.failures)) == (1, 2)
    assert "the bus is down" in down.failures[0]
    assert (up.published, up.failures) == (2, ())
    assert sorted(m.detail["data"]["name"] for m in bus.published) == ["a", "b", "c"]


def test_publish_reports_the_messages_the_bus_refused_by_event_id(
    make_tenant: Callable[..., TenantContext],
) -> None:
    store, bus = MemoryProductStore(), MemoryEventPublisher()
    _three_products(store, make_tenant())
    refused = store.outbox[1].event_id
    bus.refused = {refused}

    report = OutboxRelay(bus).publish(store.outbox)

    assert (report.published, report.failed) == (2, (refused,))
    assert report.failures == (f"{refused}: refused by the bus",)


def test_the_scheduled_handler_relays_and_reports(
    wired: Callable[..., Any], make_tenant: Callable[..., TenantContext], lambda_context: Any
) -> None:
    store, bus = MemoryProductStore(), MemoryEventPublisher()
    wired(store).event_publisher = bus
    _three_products(store, make_tenant())
    bus.failures_left = 1
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-23T21:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/product-outbox-poller"],
        "detail": {},
    }

    assert outbox_poller.handler(scheduled, lambda_context) == {"published": 2, "failed": 1}
    assert outbox_poller.handler(scheduled, lambda_context) == {"published": 1, "failed": 0}
