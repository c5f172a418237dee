"""Products, order lines and the stock reservation rule: all lines or none, never below zero."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from product_service.domain.errors import InvalidPageRequest, InvalidProduct, TooManyLines

MAX_ORDER_LINES = 25  # agreed with the order service; one DynamoDB transaction holds 100 items
TWO_PLACES = Decimal("0.01")
# Bounds every store can hold exactly (Fauna's integers are 64-bit, DynamoDB numbers 38 digits).
MAX_PRICE = Decimal("999999999.99")
MAX_STOCK = 1_000_000_000


def money(value: Decimal | str | int | float) -> Decimal:
    """A price with exactly two places, or InvalidProduct."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidProduct(f"price {value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise InvalidProduct(f"price {value!r} is not a finite amount")
    if amount > MAX_PRICE:
        raise InvalidProduct(f"price {value!r} is above the maximum, {MAX_PRICE}")
    if amount != amount.quantize(TWO_PLACES):
        raise InvalidProduct(f"price {value!r} has more than two decimal places")
    if amount < 0:
        raise InvalidProduct(f"price {value!r} is negative")
    # -0 passes every check above; it is stored and shown as 0.00, never "-0.00".
    return amount.copy_abs().quantize(TWO_PLACES)


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    sku: str
    price: Decimal
    stock: int

    def __post_init__(self) -> None:

        if not self.id.strip():
            raise InvalidProduct("id is blank")
        if not self.name.strip():
            raise InvalidProduct("name is blank")
        if not self.sku.strip():
            raise InvalidProduct("sku is blank")
        object.__setattr__(self, "price", money(self.price))
        if isinstance(self.stock, bool) or not isinstance(self.stock, int):
            raise InvalidProduct(f"stock {self.stock!r} is not an integer")
        if self.stock < 0:
            raise InvalidProduct(f"stock {self.stock} is negative")
        if self.stock > MAX_STOCK:
            raise InvalidProduct(f"stock {self.stock} is above the maximum, {MAX_STOCK}")

    @classmethod
    def new(cls, *, name: str, sku: str, price: Decimal | str, stock: int) -> Product:
        return cls(id=str(uuid.uuid4()), name=name, sku=sku, price=money(price), stock=stock)

    def replaced(self, *, name: str, sku: str, price: Decimal | str, stock: int) -> Product:
        return Product(id=self.id, name=name, sku=sku, price=money(price), stock=stock)


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: str
    quantity: int

    def __post_init__(self) -> None:

        if self.quantity < 1:
            raise InvalidProduct(f"quantity {self.quantity} of {self.product_id!r} is below 1")


@dataclass(frozen=True, slots=True)
class ShortLine:
    product_id: str
    requested: int
    available: int


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"
    REJECTED = "REJECTED"
    RELEASED = "RELEASED"
    # OrderCancelled arrived first: a tombstone, so the late OrderPlaced reserves nothing.
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class Reservation:
    """What one order holds: the lines it reserved (none unless RESERVED or RELEASED)."""

    order_id: str
    status: ReservationStatus
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True, slots=True)
class StockMovement:
    """A change of one product's stock: negative reserves (guarded: never below zero)."""

    product_id: str
    delta: int


@dataclass(frozen=True, slots=True)
class ReservationDecision:
    reservation: Reservation
    movements: tuple[StockMovement, ...] = ()
    short_lines: tuple[ShortLine, ...] = ()
    reason: str | None = None

    @property
    def reserved(self) -> bool:
        return self.reservation.status is ReservationStatus.RESERVED


def merge_lines(lines: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    """One line per product (quantities summed), in first-seen order."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return tuple(OrderLine(pid, qty) for pid, qty in totals.items())


def decide_reservation(
    order_id: str, lines: Iterable[OrderLine], stock: Mapping[str, int | None]
) -> ReservationDecision:
    """All lines or none. `stock` maps each product id to its stock (None: no such product)."""
    merged = merge_lines(lines)
    if len(merged) > MAX_ORDER_LINES:
        raise TooManyLines(len(merged), MAX_ORDER_LINES)
    if not merged:
        return ReservationDecision(
            Reservation(order_id, ReservationStatus.REJECTED), reason="the order has no lines"
        )
    short = tuple(
        ShortLine(line.product_id, line.quantity, stock.get(line.product_id) or 0)
        for line in merged
        if (stock.get(line.product_id) or 0) < line.quantity
    )
    if short:
        return ReservationDecision(
            Reservation(order_id, ReservationStatus.REJECTED),
            short_lines=short,
            reason=rejection_reason(short, stock),
        )
    return ReservationDecision(
        Reservation(order_id, ReservationStatus.RESERVED, merged),
        movements=tuple(StockMovement(line.product_id, -line.quantity) for line in merged),
    )


def rejection_reason(short: Iterable[ShortLine], stock: Mapping[str, int | None]) -> str:
    """Why the lines cannot be reserved: the products the tenant does not have, by id (the
    order service accepts any order and relies on this answer), then short stock, if any."""
    lines = tuple(short)
    unknown = [s.product_id for s in lines if stock.get(s.product_id) is None]
    parts = [f"unknown products: {', '.join(unknown)}"] if unknown else []
    if len(unknown) < len(lines):
        parts.append("insufficient stock")
    return "; ".join(parts)


def release_movements(reservation: Reservation) -> tuple[StockMovement, ...]:
    """What cancelling gives back: exactly what this order reserved, nothing else."""
    if reservation.status is not ReservationStatus.RESERVED:
        return ()
    return tuple(StockMovement(line.product_id, line.quantity) for line in reservation.lines)


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[Product, ...]
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 20
    next_token: str | None = None

    def __post_init__(self) -> None:

        if not 1 <= self.limit <= 100:
            raise InvalidPageRequest(f"limit {self.limit} is not between 1 and 100")


__all__ = [
    "MAX_ORDER_LINES",
    "OrderLine",
    "Page",
    "PageRequest",
    "Product",
    "Reservation",
    "ReservationDecision",
    "ReservationStatus",
    "ShortLine",
    "StockMovement",
    "decide_reservation",
    "merge_lines",
    "rejection_reason",
    "release_movements",
]
