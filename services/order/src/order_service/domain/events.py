"""Events the order service publishes: detail-type -> data model (the envelope's `data`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

SOURCE = "saas.order"


class OrderLineData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class OrderEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_version: ClassVar[int] = 1

    order_id: str = Field(min_length=1)


class OrderPlaced(OrderEvent):
    lines: list[OrderLineData] = Field(min_length=1, max_length=25)


class OrderConfirmed(OrderEvent):
    pass


class OrderRejected(OrderEvent):
    reason: str = Field(min_length=1)


class OrderCancelled(OrderEvent):
    lines: list[OrderLineData] = Field(min_length=1, max_length=25)


PUBLISHED: dict[str, type[BaseModel]] = {
    "OrderPlaced": OrderPlaced,
    "OrderConfirmed": OrderConfirmed,
    "OrderRejected": OrderRejected,
    "OrderCancelled": OrderCancelled,
}
