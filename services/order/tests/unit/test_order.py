"""The Order state machine: which transitions happen, and which change nothing."""

from __future__ import annotations

import pytest

from order_service.domain.errors import InvalidOrder, OrderNotCancellable
from order_service.domain.events import OrderCancelled, OrderConfirmed, OrderPlaced, OrderRejected
from order_service.domain.order import MAX_ORDER_LINES, Order, OrderLine, OrderStatus


def placed(quantity: int = 2) -> Order:
    order = Order.place([OrderLine(product_id="p-1", quantity=quantity)])
    order.events.clear()
    return order


def test_placing_an_order_makes_it_pending_and_raises_order_placed():
    order = Order.place([OrderLine(product_id="p-1", quantity=2)])

    assert order.status is OrderStatus.PENDING
    assert order.events == [
        OrderPlaced(order_id=order.id, lines=[{"product_id": "p-1", "quantity": 2}])
    ]


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([], "at least one line"),
        (
            [OrderLine(product_id=f"p-{i}", quantity=1) for i in range(MAX_ORDER_LINES + 1)],
            "at most 25 lines",
        ),
        ([OrderLine(product_id="p-1", quantity=1)] * 2, "one line only"),
    ],
)
def test_an_order_that_breaks_its_rules_is_refused_with_the_reason(lines, problem):
    with pytest.raises(InvalidOrder, match=problem):
        Order.place(lines)


def test_a_line_needs_a_quantity_of_at_least_one():
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        OrderLine(product_id="p-1", quantity=0)


def test_confirming_a_pending_order_confirms_it_once():
    order = placed()

    order.confirm()
    order.confirm()

    assert order.status is OrderStatus.CONFIRMED
    assert order.events == [OrderConfirmed(order_id=order.id)]


def test_rejecting_a_pending_order_keeps_the_reason():
    order = placed()

    order.reject("p-1: requested 10, available 3")

    assert order.status is OrderStatus.REJECTED
    assert order.reason == "p-1: requested 10, available 3"
    assert order.events == [OrderRejected(order_id=order.id, reason=order.reason)]


@pytest.mark.parametrize("first", ["confirm", "reject"])
def test_a_decided_order_ignores_the_other_outcome(first):
    order = placed()
    getattr(order, first)(*(["short"] if first == "reject" else []))
    status, events = order.status, list(order.events)

    if first == "confirm":
        order.reject("late")
    else:
        order.confirm()

    assert order.status is status
    assert order.events == events


@pytest.mark.parametrize("confirm_first", [False, True])
def test_cancelling_a_pending_or_confirmed_order_asks_for_the_stock_back(confirm_first):
    order = placed()
    if confirm_first:
        order.confirm()
    order.events.clear()

    order.cancel()

    assert order.status is OrderStatus.CANCELLED
    assert order.events == [
        OrderCancelled(order_id=order.id, lines=[{"product_id": "p-1", "quantity": 2}])
    ]


def test_cancelling_twice_changes_nothing_the_second_time():
    order = placed()
    order.cancel()
    order.events.clear()

    order.cancel()

    assert order.status is OrderStatus.CANCELLED
    assert order.events == []


def test_a_rejected_order_cannot_be_cancelled():
    order = placed()
    order.reject("short")

    with pytest.raises(OrderNotCancellable, match="REJECTED"):
        order.cancel()


def test_stock_reserved_after_a_cancel_keeps_it_cancelled_and_asks_again_for_the_stock():
    order = placed()
    order.cancel()
    order.events.clear()

    order.confirm()

    assert order.status is OrderStatus.CANCELLED
    assert order.events == [
        OrderCancelled(order_id=order.id, lines=[{"product_id": "p-1", "quantity": 2}])
    ]


def test_a_rejection_after_a_cancel_changes_nothing():
    order = placed()
    order.cancel()
    order.events.clear()

    order.reject("short")

    assert (order.status, order.reason, order.events) == (OrderStatus.CANCELLED, None, [])


def test_the_listing_key_sorts_by_time_then_id_and_gives_the_time_back():
    from datetime import UTC, datetime, timedelta, timezone

    at = datetime(2026, 12, 1, 9, 30, 0, 250, tzinfo=UTC)
    order = Order.place([OrderLine(product_id="p", quantity=1)], order_id="o-1", placed_at=at)
    later = Order.place(
        [OrderLine(product_id="p", quantity=1)],
        order_id="o-0",
        placed_at=(at + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=2))),
    )
    timeless = Order.place([OrderLine(product_id="p", quantity=1)], order_id="o-9")

    assert order.listing_key == "2026-12-01T09:30:00.000250Z#o-1"
    assert Order.placed_at_of(order.listing_key) == at
    assert sorted([order, timeless, later], key=lambda o: o.listing_key, reverse=True) == [
        later,
        order,
        timeless,
    ]
    assert Order.placed_at_of(timeless.listing_key) is None
