"""The order service's own reader models of the events it consumes (pydantic only: light).

Readers accept what they need and ignore the rest, so a producer may add fields freely."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Reader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_version: ClassVar[int] = 1


class ReservedLine(Reader):
    product_id: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class StockReserved(Reader):
    order_id: str = Field(min_length=1)
    lines: list[ReservedLine] = Field(default_factory=list)


class ShortLine(Reader):
    product_id: str = Field(min_length=1)
    requested: int
    available: int


class StockReservationRejected(Reader):
    order_id: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    short_lines: list[ShortLine] = Field(default_factory=list)


class StockReleased(Reader):
    """Acknowledged only: the product service owns stock; the order is already CANCELLED."""

    order_id: str = Field(min_length=1)


class ProductCreated(Reader):
    product_id: str = Field(min_length=1)


class ProductDeleted(Reader):
    product_id: str = Field(min_length=1)


class TenantDeprovisioned(Reader):
    tenant_id: str = Field(min_length=1)


CONSUMED: dict[tuple[str, str], type[BaseModel]] = {
    ("saas.product", "StockReserved"): StockReserved,
    ("saas.product", "StockReservationRejected"): StockReservationRejected,
    ("saas.product", "StockReleased"): StockReleased,
    ("saas.product", "ProductCreated"): ProductCreated,
    ("saas.product", "ProductDeleted"): ProductDeleted,
    ("saas.provisioner", "TenantDeprovisioned"): TenantDeprovisioned,
}
