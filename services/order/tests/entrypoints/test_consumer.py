"""The SQS consumer with SQS batches whose bodies are EventBridge events (as moto and AWS
deliver them), on the memory backend."""

from __future__ import annotations

import logging

import pytest
from order_testkit import eventbridge_event, sqs_event, tenant

from order_service.domain.order import OrderLine, OrderStatus
from order_service.entrypoints import consumer, event_readers
from tenant_context import Cause, RegionGroup


@pytest.fixture
def placed(memory_container, acme):
    order = memory_container.orders.place(acme, [OrderLine(product_id="p-1", quantity=2)], Cause())
    return order.id


def reserved(order_id, ctx, event_id="e-reserved"):
    data = {"order_id": order_id, "lines": [{"product_id": "p-1", "quantity": 2}]}
    return eventbridge_event("saas.product", "StockReserved", data, ctx=ctx, event_id=event_id)


def rejected(order_id, ctx, event_id="e-rejected"):
    data = {
        "order_id": order_id,
        "reason": "p-1: requested 2, available 1",
        "short_lines": [{"product_id": "p-1", "requested": 2, "available": 1}],
    }
    return eventbridge_event(
        "saas.product", "StockReservationRejected", data, ctx=ctx, event_id=event_id
    )


class Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def logged():
    """What the consumer logs (Powertools logs through the standard logger of its service name,
    POWERTOOLS_SERVICE_NAME)."""
    handler = Captured()
    logging.getLogger(consumer.logger.name).addHandler(handler)
    yield handler.records
    logging.getLogger(consumer.logger.name).removeHandler(handler)


def run(event, lambda_context):
    return consumer.handler(event, lambda_context)["batchItemFailures"]


def status(memory_container, ctx, order_id):
    return memory_container.orders.get(ctx, order_id)


def test_stock_reserved_confirms_the_order_and_publishes_order_confirmed(
    memory_container, lambda_context, acme, placed
):
    failures = run(sqs_event(reserved(placed, acme)), lambda_context)

    assert failures == []
    assert status(memory_container, acme, placed).status is OrderStatus.CONFIRMED
    confirmed = memory_container.memory_store.outbox[-1]
    assert confirmed.detail_type == "OrderConfirmed"
    assert confirmed.detail["metadata"]["causation_id"] == "e-reserved"


def test_a_rejection_records_the_reason(memory_container, lambda_context, acme, placed):
    assert run(sqs_event(rejected(placed, acme)), lambda_context) == []

    order = status(memory_container, acme, placed)
    assert (order.status, order.reason) == (OrderStatus.REJECTED, "p-1: requested 2, available 1")


def test_a_duplicate_and_a_late_contrary_event_change_nothing(
    memory_container, lambda_context, acme, placed
):
    run(sqs_event(reserved(placed, acme)), lambda_context)
    outbox_before = list(memory_container.memory_store.outbox)

    failures = run(
        sqs_event(reserved(placed, acme), rejected(placed, acme), reserved(placed, acme)),
        lambda_context,
    )

    assert failures == []
    assert status(memory_container, acme, placed).status is OrderStatus.CONFIRMED
    assert memory_container.memory_store.outbox == outbox_before


def test_an_event_in_another_tenant_does_not_touch_this_tenants_order(
    memory_container, lambda_context, acme, placed
):
    assert run(sqs_event(reserved(placed, tenant("t-mallory"))), lambda_context) == []

    assert status(memory_container, acme, placed).status is OrderStatus.PENDING


def test_an_unknown_major_version_goes_to_the_dlq_with_its_reason_and_the_batch_goes_on(
    memory_container, lambda_context, acme, placed, logged
):
    future = eventbridge_event(
        "saas.product", "StockReserved", {"order_id": placed}, ctx=acme, event_version=2
    )
    event = sqs_event(future, rejected(placed, acme))

    failures = run(event, lambda_context)

    assert failures == [{"itemIdentifier": "m-0"}]
    assert any("event_version 2" in getattr(r, "reason", "") for r in logged)
    assert status(memory_container, acme, placed).status is OrderStatus.REJECTED


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"not": "an event"}, "not an EventBridge event"),
        (
            {"source": "saas.product", "detail-type": "PriceChanged", "detail": {}},
            "no reader for saas.product PriceChanged",
        ),
        (
            {"source": "saas.product", "detail-type": "StockReserved", "detail": {"data": {}}},
            "metadata is missing",
        ),
    ],
)
def test_a_poison_message_fails_alone_with_the_reason_logged(
    memory_container, lambda_context, acme, placed, body, reason, logged
):
    failures = run(sqs_event(body, reserved(placed, acme)), lambda_context)

    assert failures == [{"itemIdentifier": "m-0"}]
    assert any(reason in getattr(record, "reason", "") for record in logged)
    assert status(memory_container, acme, placed).status is OrderStatus.CONFIRMED


def test_an_infrastructure_error_fails_the_item_and_logs_its_message_id(
    memory_container, lambda_context, acme, placed, logged, monkeypatch
):
    def throttled(*args, **kwargs):
        raise RuntimeError("throttled (fake)")

    monkeypatch.setitem(consumer.EVENT_HANDLERS, "StockReserved", throttled)

    failures = run(sqs_event(reserved(placed, acme)), lambda_context)

    assert failures == [{"itemIdentifier": "m-0"}]
    [failure] = [r for r in logged if r.getMessage() == "event failed; SQS will deliver it again"]
    assert failure.message_id == "m-0"  # what names the message should it reach the DLQ
    assert status(memory_container, acme, placed).status is OrderStatus.PENDING


def test_invalid_data_for_a_known_event_fails_with_the_field_named(
    memory_container, lambda_context, acme, placed, logged
):
    bad = eventbridge_event(
        "saas.product", "StockReservationRejected", {"order_id": placed}, ctx=acme
    )

    assert run(sqs_event(bad), lambda_context) == [{"itemIdentifier": "m-0"}]
    [record] = [r for r in logged if hasattr(r, "reason")]
    assert "data is invalid" in record.reason
    assert "reason\n  Field required" in record.reason
    assert status(memory_container, acme, placed).status is OrderStatus.PENDING


def test_product_events_are_not_the_order_services_business(
    memory_container, lambda_context, acme, logged
):
    # The order service keeps no projection of products (the product service decides in the
    # saga), so the platform's rule no longer sends it ProductCreated: one that arrives anyway
    # goes to the DLQ with its reason
    created = eventbridge_event(
        "saas.product",
        "ProductCreated",
        {"product_id": "p-7", "name": "Mug", "sku": "MUG", "price": "12.50", "stock": 5},
        ctx=acme,
    )

    assert run(sqs_event(created), lambda_context) == [{"itemIdentifier": "m-0"}]
    assert any(
        "no reader for saas.product ProductCreated" in getattr(r, "reason", "") for r in logged
    )


def test_every_event_read_has_its_handler_in_the_dispatch_table():
    assert sorted(consumer.EVENT_HANDLERS) == sorted(dt for _, dt in event_readers.CONSUMED)


def test_an_event_read_but_without_a_handler_fails_with_the_reason(
    memory_container, lambda_context, acme, placed, logged, monkeypatch
):
    monkeypatch.delitem(consumer.EVENT_HANDLERS, "StockReserved")

    assert run(sqs_event(reserved(placed, acme)), lambda_context) == [{"itemIdentifier": "m-0"}]
    assert any("no handler for StockReserved" in getattr(r, "reason", "") for r in logged)
    assert status(memory_container, acme, placed).status is OrderStatus.PENDING


def test_tenant_deprovisioned_purges_that_tenants_orders_only(
    memory_container, lambda_context, acme, globex, placed
):
    theirs = memory_container.orders.place(
        globex, [OrderLine(product_id="p-1", quantity=1)], Cause()
    )
    gone = eventbridge_event(
        "saas.provisioner", "TenantDeprovisioned", {"tenant_id": "t-acme"}, ctx=acme
    )

    assert run(sqs_event(gone), lambda_context) == []

    assert memory_container.orders.list(acme, limit=20, next_token=None).orders == []
    assert memory_container.orders.get(globex, theirs.id).id == theirs.id


def test_tenant_deprovisioned_naming_another_tenant_is_refused(
    memory_container, lambda_context, acme, placed
):
    spoof = eventbridge_event(
        "saas.provisioner",
        "TenantDeprovisioned",
        {"tenant_id": "t-acme"},
        ctx=tenant("t-other", region_group=RegionGroup.EU),
    )

    assert run(sqs_event(spoof), lambda_context) == [{"itemIdentifier": "m-0"}]
    assert status(memory_container, acme, placed) is not None


def test_stock_released_is_acknowledged_and_changes_nothing(
    memory_container, lambda_context, acme, placed
):
    released = eventbridge_event(
        "saas.product",
        "StockReleased",
        {"order_id": placed, "lines": [{"product_id": "p-1", "quantity": 2}]},
        ctx=acme,
    )
    before = list(memory_container.memory_store.outbox)

    assert run(sqs_event(released), lambda_context) == []
    assert status(memory_container, acme, placed).status is OrderStatus.PENDING
    assert memory_container.memory_store.outbox == before
