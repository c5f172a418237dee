"""The events the provisioner publishes (source `saas.provisioner`), one model per detail-type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from provisioner.domain.tenant import RegionGroup, Tier

SOURCE = "saas.provisioner"
# Event ids are derived from the stream record and the detail-type, so a redelivered record
# publishes the same event id again and consumers drop the duplicate.
_EVENT_ID_NAMESPACE = uuid.UUID("0b6f1c1e-64a4-4f43-9d55-2f0f3c2a4d10")


class ProvisionerEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_version: ClassVar[int] = 1

    tenant_id: str = Field(min_length=1)


class TenantProvisioned(ProvisionerEvent):
    """The tenant's environment matches its record: stack complete, data space ready."""

    stack_name: str = Field(min_length=1)
    region: str = Field(min_length=1)
    outputs: dict[str, str] = Field(description="The stack's outputs and data-space facts.")


class TenantProvisioningFailed(ProvisionerEvent):
    """Every attempt failed; `reason` is CloudFormation's (the first failed resource's)."""

    reason: str = Field(min_length=1)


class TenantDeprovisioned(ProvisionerEvent):
    """The tenant's stack, data space and secrets are gone."""


PUBLISHED: dict[str, type[BaseModel]] = {
    "TenantProvisioned": TenantProvisioned,
    "TenantProvisioningFailed": TenantProvisioningFailed,
    "TenantDeprovisioned": TenantDeprovisioned,
}


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """An event ready for the bus, with what its envelope needs about the tenant and its cause."""

    event_id: str
    detail_type: str
    data: ProvisionerEvent
    tier: Tier
    region_group: RegionGroup
    causation_id: str

    @classmethod
    def caused_by(
        cls, change_id: str, data: ProvisionerEvent, tier: Tier, region_group: RegionGroup
    ) -> OutgoingEvent:
        detail_type = type(data).__name__
        return cls(
            event_id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{change_id}/{detail_type}")),
            detail_type=detail_type,
            data=data,
            tier=tier,
            region_group=region_group,
            causation_id=change_id,
        )

    @property
    def tenant_id(self) -> str:
        return self.data.tenant_id
