"""The events the product service consumes, as this service reads them (tolerant readers:
unknown fields are ignored). Light on purpose: pydantic only."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class _Reader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    event_version: ClassVar[int] = 1  # the major this reader accepts


class LineReader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    product_id: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class OrderPlacedReader(_Reader):
    order_id: str = Field(min_length=1)
    lines: list[LineReader]


class OrderCancelledReader(_Reader):
    order_id: str = Field(min_length=1)
    lines: list[LineReader] = Field(default_factory=list)


class TenantDeprovisionedReader(_Reader):
    tenant_id: str = Field(min_length=1)


CONSUMED: dict[tuple[str, str], type[BaseModel]] = {
    ("saas.order", "OrderPlaced"): OrderPlacedReader,
    ("saas.order", "OrderCancelled"): OrderCancelledReader,
    ("saas.provisioner", "TenantDeprovisioned"): TenantDeprovisionedReader,
}
