"""Events the tenant service publishes (source `saas.tenant`), one pydantic model each.

`PUBLISHED` maps detail-type -> model; contracts/events/<DetailType>.v1.json is exported from it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class TenantEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_version: ClassVar[int] = 1

    tenant_id: str = Field(min_length=1)


class TenantRegistered(TenantEvent):
    name: str
    tier: Literal["basic", "premium"]
    region_group: Literal["us", "eu", "global"]
    admin_email: str
    config: dict[str, str] = Field(default_factory=dict)


class TenantUpdated(TenantEvent):
    tier: Literal["basic", "premium"]
    previous_tier: Literal["basic", "premium"]
    config: dict[str, str] = Field(default_factory=dict)


class TenantSuspended(TenantEvent):
    pass


class TenantActivated(TenantEvent):
    pass


class TenantProvisioningRetried(TenantEvent):
    """A SystemAdmin asked for another provisioning run after PROVISIONING_FAILED; the tenant is
    PROVISIONING again (the provisioner reads the change from the tenant table's stream)."""

    previous_reason: str | None = None


class TenantOffboardingRequested(TenantEvent):
    tier: Literal["basic", "premium"]
    region_group: Literal["us", "eu", "global"]


class TenantUserCreated(TenantEvent):
    username: str = Field(min_length=1)
    email: str
    role: Literal["TenantAdmin", "TenantUser"]


class TenantUserDisabled(TenantEvent):
    """Its logins are refused from now on; tokens it holds expire within their lifetime (an
    authorizer cache keyed by user can drop its entries on this event)."""

    username: str = Field(min_length=1)


class TenantUserEnabled(TenantEvent):
    username: str = Field(min_length=1)


class TenantUserRemoved(TenantEvent):
    """The user no longer exists (same as TenantUserDisabled for tokens it holds)."""

    username: str = Field(min_length=1)


PUBLISHED: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        TenantRegistered,
        TenantUpdated,
        TenantSuspended,
        TenantActivated,
        TenantProvisioningRetried,
        TenantOffboardingRequested,
        TenantUserCreated,
        TenantUserDisabled,
        TenantUserEnabled,
        TenantUserRemoved,
    )
}
