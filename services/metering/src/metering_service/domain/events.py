"""The events this service publishes, one model each; their source is
`saas.metering`.

`PUBLISHED` is what `make contracts` exports to contracts/events/."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class MeteringCreated(BaseModel):
    model_config = ConfigDict(frozen=True)
    event_version: ClassVar[int] = 1

    metering_id: str = Field(min_length=1)
    name: str = Field(min_length=1)


PUBLISHED: dict[str, type[BaseModel]] = {"MeteringCreated": MeteringCreated}
