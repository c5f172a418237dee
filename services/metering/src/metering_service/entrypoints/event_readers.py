"""The events this service consumes, as it reads them (tolerant: unknown fields are ignored).
`CONSUMED` is what the contract tools check against the producers' schemas."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class TenantDeprovisionedReader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    event_version: ClassVar[int] = 1

    tenant_id: str = Field(min_length=1)


CONSUMED: dict[tuple[str, str], type[BaseModel]] = {
    ("saas.provisioner", "TenantDeprovisioned"): TenantDeprovisionedReader,
}
