"""What this service reads from the provisioner's events, and from its own lifecycle events (to
bring every token into line with a change of standing): its own reader models (pydantic only).

CONSUMED maps (source, detail-type) -> reader model; `event_version` is the major it accepts.
Readers ignore fields they do not use, so a producer adding one breaks nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class _Reader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_version: ClassVar[int] = 1

    tenant_id: str = Field(min_length=1)


class TenantProvisionedReader(_Reader):
    stack_name: str | None = None
    region: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)


class TenantProvisioningFailedReader(_Reader):
    reason: str = Field(min_length=1)


class TenantDeprovisionedReader(_Reader):
    pass


class TenantStandingChangedReader(_Reader):
    """TenantSuspended, TenantActivated, TenantOffboardingRequested: who may call changed."""


class TenantUserChangedReader(_Reader):
    """TenantUserDisabled, TenantUserEnabled, TenantUserRemoved: who may call changed."""

    username: str = Field(min_length=1)


class TenantUpdatedReader(_Reader):
    tier: str
    previous_tier: str


CONSUMED: dict[tuple[str, str], type[BaseModel]] = {
    ("saas.provisioner", "TenantProvisioned"): TenantProvisionedReader,
    ("saas.provisioner", "TenantProvisioningFailed"): TenantProvisioningFailedReader,
    ("saas.provisioner", "TenantDeprovisioned"): TenantDeprovisionedReader,
    ("saas.tenant", "TenantSuspended"): TenantStandingChangedReader,
    ("saas.tenant", "TenantActivated"): TenantStandingChangedReader,
    ("saas.tenant", "TenantOffboardingRequested"): TenantStandingChangedReader,
    ("saas.tenant", "TenantUserDisabled"): TenantUserChangedReader,
    ("saas.tenant", "TenantUserEnabled"): TenantUserChangedReader,
    ("saas.tenant", "TenantUserRemoved"): TenantUserChangedReader,
    ("saas.tenant", "TenantUpdated"): TenantUpdatedReader,
}
