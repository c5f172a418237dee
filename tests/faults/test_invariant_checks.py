"""The harness's judgement of events fails when a promise is broken (so a green run under faults
means something): an event lost, logged twice, decided twice, an order concluded twice, stock
below zero, a marker missing, a tenant provisioned twice."""

from __future__ import annotations

import json
from typing import Any

from invariants import judge_events

T = "t1"


def _event(
    kind: str, event_id: str, data: dict[str, Any], causation: str = "", at: str = "1"
) -> dict[str, Any]:
    detail = {
        "metadata": {
            "event_id": event_id,
            "causation_id": causation or event_id,
            "tenant_id": T,
            "occurred_at": f"2026-12-04T00:00:0{at}Z",
        },
        "data": data,
    }
    return {"detail-type": kind, "detail": json.dumps(detail)}


def _outbox(event_id: str) -> tuple[str, dict[str, Any]]:
    key = {"pk": {"S": f"TENANT#{T}"}, "sk": {"S": f"OUTBOX#{event_id}"}}
    return ("saas-orders", {**key, "event_id": {"S": event_id}})


def _marker(event_id: str) -> tuple[str, dict[str, Any]]:
    key = {"pk": {"S": f"TENANT#{T}"}, "sk": {"S": f"EVENT#{event_id}"}}
    return ("saas-products", {**key, "event_id": {"S": event_id}})


LINE = [{"product_id": "p1", "quantity": 1}]


def _a_kept_saga() -> tuple[list[Any], list[Any]]:
    """A product with stock 1 and two orders: one reserved and confirmed, one rejected."""
    logged = [
        _event("ProductCreated", "c", {"product_id": "p1", "stock": 1}, at="0"),
        _event("OrderPlaced", "o1", {"order_id": "A", "lines": LINE}, at="1"),
        _event("OrderPlaced", "o2", {"order_id": "B", "lines": LINE}, at="1"),
        _event("StockReserved", "r1", {"order_id": "A", "lines": LINE}, causation="o1", at="2"),
        _event("StockReservationRejected", "r2", {"order_id": "B"}, causation="o2", at="2"),
        _event("OrderConfirmed", "f1", {"order_id": "A"}, causation="r1", at="3"),
        _event("OrderRejected", "f2", {"order_id": "B"}, causation="r2", at="3"),
    ]
    items = [_outbox("o1"), _outbox("o2"), _outbox("f1"), _outbox("f2")]
    items += [_marker("o1"), _marker("o2")]
    return items, logged


def test_a_kept_saga_breaks_nothing() -> None:
    items, logged = _a_kept_saga()

    check = judge_events(items, logged, {})

    assert check.violations == []
    assert check.decisions_per_order_placed == {1: 2}
    assert (check.outbox_items, check.logged_events) == (4, 7)


def test_an_outbox_item_that_never_reached_the_log_is_lost() -> None:
    items, logged = _a_kept_saga()

    check = judge_events([*items, _outbox("never")], logged, {})

    assert check.unpublished == ["never"]
    assert check.violations == ["1 outbox items never reached the event log: ['never']"]


def test_an_event_logged_twice_or_decided_twice_or_concluded_twice_is_caught() -> None:
    items, logged = _a_kept_saga()
    twice = [
        *logged,
        logged[1],  # OrderPlaced o1 logged again
        _event("StockReserved", "r3", {"order_id": "A", "lines": LINE}, causation="o1", at="4"),
        _event("OrderConfirmed", "f3", {"order_id": "A"}, causation="r3", at="5"),
    ]

    violations = judge_events(items, twice, {}).violations

    assert "event ids logged more than once: ['o1']" in violations
    assert any(v.startswith("OrderPlaced events not decided exactly once") for v in violations)
    assert "orders not concluded exactly once: {'A': 2}" in violations
    assert "product p1's stock went to -1" in violations


def test_an_order_placed_without_its_consumers_marker_is_caught() -> None:
    items, logged = _a_kept_saga()

    violations = judge_events([i for i in items if i != _marker("o2")], logged, {}).violations

    assert violations == ["OrderPlaced without the product consumer's marker: ['o2']"]


def test_a_tenant_provisioned_or_deprovisioned_twice_is_caught() -> None:
    logged = [
        _event("TenantProvisioned", "p1", {"tenant_id": T}),
        _event("TenantProvisioned", "p2", {"tenant_id": T}),
        _event("TenantDeprovisioned", "d1", {"tenant_id": T}),
        _event("TenantDeprovisioned", "d2", {"tenant_id": T}),
    ]

    violations = judge_events([], logged, {T: 1}).violations

    assert f"tenant {T}: 2 TenantProvisioned for 1 runs" in violations
    assert any(v.startswith("TenantDeprovisioned more than once") for v in violations)
