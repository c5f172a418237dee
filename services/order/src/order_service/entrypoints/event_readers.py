"""The order service's own reader models of the events it consumes (pydantic only: light).

Readers accept what they need and ignore the rest, so a producer may add fields freely; they
demand no more than the producer's schema guarantees (tests/contract checks it), and what makes
no sense to the order service (an empty order id) is handled as a no-op by the use case."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Reader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_version: ClassVar[int] = 1


class ReservedLine(Reader):
    product_id: str
    quantity: int


class StockReserved(Reader):
    order_id: str
    lines: list[ReservedLine] = Field(default_factory=list)


class ShortLine(Reader):
    product_id: str
    requested: int
    available: int


class StockReservationRejected(Reader):
    order_id: str
    reason: str
    short_lines: list[ShortLine] = Field(default_factory=list)


class StockReleased(Reader):
    """Acknowledged only: the product service owns stock; the order is already CANCELLED."""

    order_id: str


class TenantDeprovisioned(Reader):
    tenant_id: str


CONSUMED: dict[tuple[str, str], type[BaseModel]] = {
    ("saas.product", "StockReserved"): StockReserved,
    ("saas.product", "StockReservationRejected"): StockReservationRejected,
    ("saas.product", "StockReleased"): StockReleased,
    ("saas.provisioner", "TenantDeprovisioned"): TenantDeprovisioned,
}
