"""The product rules, on values alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from product_service.domain.errors import InvalidProduct, TooManyLines
from product_service.domain.model import (
    MAX_ORDER_LINES,
    OrderLine,
    Product,
    Reservation,
    ReservationStatus,
    ShortLine,
    StockMovement,
    decide_reservation,
    release_movements,
)


def test_a_new_product_keeps_its_price_with_two_places() -> None:
    product = Product.new(name="Mug", sku="MUG-1", price=Decimal("12.5"), stock=3)

    assert str(product.price) == "12.50"
    assert product.id


@pytest.mark.parametrize(
    ("price", "stock", "problem"),
    [
        ("-0.01", 1, "negative"),
        ("1.001", 1, "more than two decimal places"),
        ("abc", 1, "not a decimal"),
        ("NaN", 1, "not a finite"),
        ("1.00", -1, "stock -1 is negative"),
        ("3.2e307", 1, "above the maximum"),  # once an InvalidOperation deep in quantize
        ("1000000000.00", 1, "above the maximum, 999999999.99"),
        ("1.00", 1_000_000_001, "stock 1000000001 is above the maximum"),
    ],
)
def test_a_product_refuses_a_bad_price_or_stock_naming_it(
    price: str, stock: int, problem: str
) -> None:
    with pytest.raises(InvalidProduct, match=problem):
        Product.new(name="Mug", sku="MUG-1", price=price, stock=stock)


@pytest.mark.parametrize("zero", ["-0", "-0.00", "-0e3", "0"])
def test_a_zero_price_is_plain_zero(zero: str) -> None:
    product = Product.new(name="Free", sku="F-1", price=zero, stock=1)
    assert str(product.price) == "0.00"


def test_a_product_refuses_a_blank_name() -> None:
    with pytest.raises(InvalidProduct, match="name is blank"):
        Product.new(name=" ", sku="MUG-1", price="1.00", stock=1)


def test_reservation_takes_every_line_when_all_are_in_stock() -> None:
    decision = decide_reservation("o-1", [OrderLine("a", 2), OrderLine("b", 1)], {"a": 2, "b": 5})

    assert decision.reserved
    assert decision.movements == (StockMovement("a", -2), StockMovement("b", -1))


def test_reservation_takes_nothing_when_one_line_is_short() -> None:
    decision = decide_reservation("o-1", [OrderLine("a", 2), OrderLine("b", 6)], {"a": 2, "b": 5})

    assert not decision.reserved
    assert decision.movements == ()
    assert decision.short_lines == (ShortLine("b", 6, 5),)
    assert decision.reason == "insufficient stock"


def test_reservation_sums_repeated_lines_of_one_product() -> None:
    decision = decide_reservation("o-1", [OrderLine("a", 2), OrderLine("a", 2)], {"a": 3})

    assert decision.short_lines == (ShortLine("a", 4, 3),)


def test_reservation_names_an_unknown_product() -> None:
    decision = decide_reservation("o-1", [OrderLine("ghost", 1)], {"ghost": None})

    assert decision.short_lines == (ShortLine("ghost", 1, 0),)
    assert decision.reason is not None
    assert "unknown products: ghost" in decision.reason


def test_the_rejection_reason_names_every_unknown_product_by_id() -> None:
    only_unknown = decide_reservation(
        "o-1", [OrderLine("p-1", 1), OrderLine("p-2", 3)], {"p-1": None}
    )
    both = decide_reservation(
        "o-1", [OrderLine("a", 9), OrderLine("p-1", 1)], {"a": 2, "p-1": None}
    )

    assert only_unknown.reason == "unknown products: p-1, p-2"
    assert both.reason == "unknown products: p-1; insufficient stock"
    assert both.short_lines == (ShortLine("a", 9, 2), ShortLine("p-1", 1, 0))


def test_reservation_refuses_more_lines_than_one_transaction_holds() -> None:
    lines = [OrderLine(f"p{i}", 1) for i in range(MAX_ORDER_LINES + 1)]

    with pytest.raises(TooManyLines, match="at most 25"):
        decide_reservation("o-1", lines, {})


def test_an_order_line_needs_a_quantity_of_one_or_more() -> None:
    with pytest.raises(InvalidProduct, match="below 1"):
        OrderLine("a", 0)


def test_release_gives_back_exactly_what_was_reserved() -> None:
    reserved = Reservation("o-1", ReservationStatus.RESERVED, (OrderLine("a", 2),))

    assert release_movements(reserved) == (StockMovement("a", 2),)
    assert release_movements(Reservation("o-1", ReservationStatus.REJECTED)) == ()
    assert release_movements(Reservation("o-1", ReservationStatus.CANCELLED)) == ()
