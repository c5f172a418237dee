"""The Order aggregate and its state machine.

PENDING --confirm--> CONFIRMED, PENDING --reject--> REJECTED,
PENDING|CONFIRMED --cancel--> CANCELLED. Every other transition changes nothing, so a duplicate
or reordered saga event is harmless. The aggregate collects the events its changes raise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from order_service.domain.errors import InvalidOrder, OrderNotCancellable
from order_service.domain.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderLineData,
    OrderPlaced,
    OrderRejected,
)

# How a listing key writes the time an order was placed: sortable as text.
PLACED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# One DynamoDB transaction holds 100 items; the product service reserves every line in one.
MAX_ORDER_LINES = 25


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1)


@dataclass
class Order:
    id: str
    lines: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None
    # Optimistic concurrency: the version the order had when it was read.
    version: int = 0
    # When it was placed (UTC); None for an order stored before orders carried it.
    placed_at: datetime | None = None
    events: list[OrderEvent] = field(default_factory=list, compare=False, repr=False)

    @property
    def listing_key(self) -> str:
        """What orders are listed by, newest first: the time placed, then the id. Stores keep it
        as a sortable string; an order without a time sorts after every other."""
        if self.placed_at is None:
            return f"#{self.id}"
        return f"{self.placed_at.astimezone(UTC).strftime(PLACED_FORMAT)}#{self.id}"

    @staticmethod
    def placed_at_of(listing_key: str) -> datetime | None:
        moment = listing_key.partition("#")[0]
        if not moment:
            return None
        return datetime.strptime(moment, PLACED_FORMAT).replace(tzinfo=UTC)

    @classmethod
    def place(
        cls,
        lines: list[OrderLine],
        order_id: str | None = None,
        placed_at: datetime | None = None,
    ) -> Order:
        if not lines:
            raise InvalidOrder("an order needs at least one line")
        if len(lines) > MAX_ORDER_LINES:
            raise InvalidOrder(f"an order holds at most {MAX_ORDER_LINES} lines, got {len(lines)}")
        products = [line.product_id for line in lines]
        if len(set(products)) != len(products):
            raise InvalidOrder("each product may appear on one line only")
        order = cls(id=order_id or str(uuid.uuid4()), lines=tuple(lines), placed_at=placed_at)
        order.events.append(OrderPlaced(order_id=order.id, lines=order._line_data()))
        return order

    def confirm(self) -> None:
        if self.status is OrderStatus.PENDING:
            self.status = OrderStatus.CONFIRMED
            self.events.append(OrderConfirmed(order_id=self.id))
        elif self.status is OrderStatus.CANCELLED:
            # The stock was reserved after the order was cancelled: ask again for its release.
            self.events.append(OrderCancelled(order_id=self.id, lines=self._line_data()))

    def reject(self, reason: str) -> None:
        if self.status is OrderStatus.PENDING:
            self.status = OrderStatus.REJECTED
            self.reason = reason
            self.events.append(OrderRejected(order_id=self.id, reason=reason))

    def cancel(self) -> None:
        if self.status in (OrderStatus.PENDING, OrderStatus.CONFIRMED):
            self.status = OrderStatus.CANCELLED
            self.events.append(OrderCancelled(order_id=self.id, lines=self._line_data()))
        elif self.status is OrderStatus.REJECTED:
            raise OrderNotCancellable(self.id, self.status.value)

    def _line_data(self) -> list[OrderLineData]:
        return [OrderLineData(product_id=ln.product_id, quantity=ln.quantity) for ln in self.lines]
