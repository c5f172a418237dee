"""The events the product service publishes (source "saas.product"): the data part of the
envelope, one model per detail-type. Their JSON Schemas are exported to contracts/events/."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from product_service.domain.model import Product, ShortLine, StockMovement

SOURCE = "saas.product"

# The price travels as a string with two places ("12.50"): no float rounding on the wire.
PriceText = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="always"),
    Field(ge=0, decimal_places=2),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$"}, mode="serialization"),
]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    event_version: ClassVar[int] = 1


class Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class ShortLineData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str = Field(min_length=1)
    requested: int = Field(ge=1)
    available: int = Field(ge=0)


class ProductCreated(_Event):
    product_id: str
    name: str
    sku: str
    price: PriceText
    stock: int = Field(ge=0)

    @classmethod
    def of(cls, product: Product) -> ProductCreated:
        return cls(
            product_id=product.id,
            name=product.name,
            sku=product.sku,
            price=product.price,
            stock=product.stock,
        )


class ProductUpdated(ProductCreated):
    @classmethod
    def of(cls, product: Product) -> ProductUpdated:
        return cls(
            product_id=product.id,
            name=product.name,
            sku=product.sku,
            price=product.price,
            stock=product.stock,
        )


class ProductDeleted(_Event):
    product_id: str


def _lines(movements: tuple[StockMovement, ...]) -> list[Line]:
    return [Line(product_id=m.product_id, quantity=abs(m.delta)) for m in movements]


class StockReserved(_Event):
    order_id: str
    lines: list[Line]

    @classmethod
    def of(cls, order_id: str, movements: tuple[StockMovement, ...]) -> StockReserved:
        return cls(order_id=order_id, lines=_lines(movements))


class StockReservationRejected(_Event):
    order_id: str
    reason: str
    short_lines: list[ShortLineData]

    @classmethod
    def of(
        cls, order_id: str, reason: str, short_lines: tuple[ShortLine, ...]
    ) -> StockReservationRejected:
        return cls(
            order_id=order_id,
            reason=reason,
            short_lines=[
                ShortLineData(product_id=s.product_id, requested=s.requested, available=s.available)
                for s in short_lines
            ],
        )


class StockReleased(_Event):
    order_id: str
    lines: list[Line]

    @classmethod
    def of(cls, order_id: str, movements: tuple[StockMovement, ...]) -> StockReleased:
        return cls(order_id=order_id, lines=_lines(movements))


PUBLISHED: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        ProductCreated,
        ProductUpdated,
        ProductDeleted,
        StockReserved,
        StockReservationRejected,
        StockReleased,
    )
}
