"""The SQS consumer through its Lambda handler, with EventBridge events inside SQS records."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.adapters.memory_unit_of_work import MemoryUnitOfWork
from product_service.adapters.recording_unit_of_work import Changes
from product_service.entrypoints import consumer
from tenant_context import Cause, TenantContext

from .. import conftest  # noqa: TID252


@pytest.fixture
def store(wired: Callable[..., Any]) -> MemoryProductStore:
    store = MemoryProductStore()
    wired(store)
    return store


@pytest.fixture
def who(make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant("acme")


@pytest.fixture
def deliver(
    make_sqs_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> Callable[..., list[str]]:
    """Runs the handler on one SQS batch; the message ids it reported as failed."""

    def deliver(*bodies: dict[str, Any] | str) -> list[str]:
        event = make_sqs_event(*bodies)
        response = consumer.handler(event, lambda_context)
        failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        ids = [r["messageId"] for r in event["Records"]]
        return [f"#{ids.index(f)}" for f in failed]

    return deliver


def _product(store: MemoryProductStore, who: TenantContext, stock: int) -> str:
    product = conftest.catalogue(store).create(
        who, name="Mug", sku="M", price=Decimal("1.00"), stock=stock
    )
    return str(product.id)


def test_order_placed_reserves_stock_and_publishes_stock_reserved(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pid = _product(store, who, 5)
    placed = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-1", "lines": [{"product_id": pid, "quantity": 2}]}, who
    )

    assert deliver(placed) == []

    assert store.stock_of(who, [pid]) == {pid: 3}
    reserved = store.outbox[-1]
    assert reserved.detail_type == "StockReserved"
    assert reserved.detail["metadata"]["causation_id"] == placed["detail"]["metadata"]["event_id"]
    assert (
        reserved.detail["metadata"]["correlation_id"]
        == placed["detail"]["metadata"]["correlation_id"]
    )
    output = capsys.readouterr().out
    assert '"StockReservationsReserved"' in output  # the EMF metric
    assert '"tenant_id":"acme"' in output.replace(" ", "")


def test_a_redelivered_order_placed_changes_nothing(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
) -> None:
    pid = _product(store, who, 5)
    placed = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-1", "lines": [{"product_id": pid, "quantity": 2}]}, who
    )

    assert deliver(placed, placed) == []
    assert deliver(placed) == []

    assert store.stock_of(who, [pid]) == {pid: 3}
    assert [m.detail_type for m in store.outbox].count("StockReserved") == 1


def test_a_cancel_delivered_before_its_order_leaves_stock_alone(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
) -> None:
    pid = _product(store, who, 5)
    lines = [{"product_id": pid, "quantity": 2}]
    placed = make_eventbridge_event("OrderPlaced", {"order_id": "o-1", "lines": lines}, who)
    cancelled = make_eventbridge_event("OrderCancelled", {"order_id": "o-1", "lines": lines}, who)

    assert deliver(cancelled) == []
    assert deliver(placed) == []

    assert store.stock_of(who, [pid]) == {pid: 5}
    assert [m.detail_type for m in store.outbox] == ["ProductCreated"]


def test_cancel_after_reserve_releases_and_publishes_stock_released(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
) -> None:
    pid = _product(store, who, 5)
    lines = [{"product_id": pid, "quantity": 2}]
    placed = make_eventbridge_event("OrderPlaced", {"order_id": "o-1", "lines": lines}, who)
    cancelled = make_eventbridge_event("OrderCancelled", {"order_id": "o-1", "lines": lines}, who)

    assert deliver(placed, cancelled) == []

    assert store.stock_of(who, [pid]) == {pid: 5}
    assert store.outbox[-1].detail_type == "StockReleased"


def test_poison_messages_fail_alone_with_their_reason_logged(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pid = _product(store, who, 5)
    good = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-1", "lines": [{"product_id": pid, "quantity": 1}]}, who
    )
    next_major = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-2", "lines": []}, who, event_version=2
    )
    unknown = make_eventbridge_event("OrderShipped", {"order_id": "o-3"}, who)
    bad_data = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-4", "lines": [{"product_id": pid, "quantity": 0}]}, who
    )
    no_tier = make_eventbridge_event("OrderCancelled", {"order_id": "o-5"}, who)
    no_tier["detail"]["metadata"]["tier"] = None

    failed = deliver(good, next_major, unknown, bad_data, "not json", no_tier)

    assert failed == ["#1", "#2", "#3", "#4", "#5"]
    assert store.stock_of(who, [pid]) == {pid: 4}
    reasons = [r.reason for r in caplog.records if r.getMessage() == "message left for the DLQ"]
    assert (
        reasons[0] == "OrderPlaced event_version 2 is not supported (this consumer reads major 1)"
    )
    assert reasons[1] == "no reader for source/detail-type ('saas.order', 'OrderShipped')"
    assert reasons[2].startswith("OrderPlaced data is invalid")
    assert "lines', 0, 'quantity'" in reasons[2]
    assert reasons[3].startswith("body is not JSON")
    assert reasons[4] == "the envelope does not carry the tenant's tier and region_group"


def test_a_batch_of_only_poison_reports_every_item_instead_of_raising(
    store: MemoryProductStore, deliver: Callable[..., list[str]]
) -> None:
    assert deliver("not json", "{}") == ["#0", "#1"]


def test_tenant_deprovisioned_purges_the_tenant(
    store: MemoryProductStore,
    who: TenantContext,
    make_tenant: Callable[..., TenantContext],
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
) -> None:
    other = make_tenant("other")
    mine, theirs = _product(store, who, 1), _product(store, other, 1)
    gone = make_eventbridge_event(
        "TenantDeprovisioned", {"tenant_id": "acme"}, who, source="saas.provisioner"
    )
    mismatched = make_eventbridge_event(
        "TenantDeprovisioned", {"tenant_id": "other"}, who, source="saas.provisioner"
    )

    assert deliver(gone, mismatched) == ["#1"]

    assert store.get(who, mine) is None
    assert store.get(other, theirs) is not None


def test_every_consumed_event_has_a_reader_of_major_1() -> None:
    from product_service.entrypoints.event_readers import CONSUMED

    assert sorted(CONSUMED) == [
        ("saas.order", "OrderCancelled"),
        ("saas.order", "OrderPlaced"),
        ("saas.provisioner", "TenantDeprovisioned"),
    ]
    assert {getattr(reader, "event_version", None) for reader in CONSUMED.values()} == {1}
    assert json.dumps(CONSUMED[("saas.order", "OrderPlaced")].model_json_schema())


class _BrokenUnitOfWork(MemoryUnitOfWork):
    def _write(self, changes: Changes) -> None:
        raise RuntimeError("throttled (fake)")


def test_an_infrastructure_error_fails_the_item_for_a_retry_and_is_logged(
    wired: Callable[..., Any],
    who: TenantContext,
    make_sqs_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
    make_eventbridge_event: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryProductStore()

    def broken(ctx: TenantContext, cause: Cause) -> MemoryUnitOfWork:
        return _BrokenUnitOfWork(store, ctx, cause)

    wired(store, broken)
    pid = _product(store, who, 5)
    placed = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-1", "lines": [{"product_id": pid, "quantity": 1}]}, who
    )

    event = make_sqs_event(placed)
    response = consumer.handler(event, lambda_context)

    [message_id] = [r["messageId"] for r in event["Records"]]
    assert response["batchItemFailures"] == [{"itemIdentifier": message_id}]
    assert store.stock_of(who, [pid]) == {pid: 5}
    [failure] = [
        r for r in caplog.records if r.getMessage() == "event failed; SQS will deliver it again"
    ]
    assert failure.message_id == message_id  # what names the message should it reach the DLQ


def test_one_dispatch_table_names_a_handler_for_every_consumed_event() -> None:
    from product_service.entrypoints.event_readers import CONSUMED

    assert set(consumer.EVENT_HANDLERS) == {detail_type for _, detail_type in CONSUMED}


def test_a_detail_type_without_a_handler_fails_with_the_reason(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A reader exists for the source, none for this detail-type: never silently dropped.
    shipped = make_eventbridge_event("OrderShipped", {"order_id": "o-1"}, who)
    wrong_source = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-2", "lines": []}, who, source="saas.tenant"
    )

    assert deliver(shipped, wrong_source) == ["#0", "#1"]

    reasons = [r.reason for r in caplog.records if r.getMessage() == "message left for the DLQ"]
    assert reasons == [
        "no reader for source/detail-type ('saas.order', 'OrderShipped')",
        "no reader for source/detail-type ('saas.tenant', 'OrderPlaced')",
    ]


def test_an_order_for_an_unknown_product_is_answered_with_a_rejection_naming_it(
    store: MemoryProductStore,
    who: TenantContext,
    deliver: Callable[..., list[str]],
    make_eventbridge_event: Callable[..., dict[str, Any]],
) -> None:
    placed = make_eventbridge_event(
        "OrderPlaced",
        {"order_id": "o-1", "lines": [{"product_id": "p-404", "quantity": 1}]},
        who,
    )

    assert deliver(placed) == []

    rejected = store.outbox[-1]
    assert rejected.detail_type == "StockReservationRejected"
    assert rejected.detail["data"]["order_id"] == "o-1"
    assert rejected.detail["data"]["reason"] == "unknown products: p-404"
    assert rejected.detail["metadata"]["causation_id"] == placed["detail"]["metadata"]["event_id"]
