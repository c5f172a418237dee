"""The Tenant aggregate and its lifecycle.

PROVISIONING -> ACTIVE | PROVISIONING_FAILED; PROVISIONING_FAILED -> PROVISIONING (a retry);
ACTIVE <-> SUSPENDED;
any status but OFFBOARDED -> OFFBOARDING -> OFFBOARDED. Anything else is TransitionNotAllowed.
Each change returns the event it causes; the use case commits both through a unit of work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from tenant_service.domain.errors import TransitionNotAllowed
from tenant_service.domain.events import (
    TenantActivated,
    TenantOffboardingRequested,
    TenantProvisioningRetried,
    TenantRegistered,
    TenantSuspended,
    TenantUpdated,
)
from tenant_service.domain.status import TenantStatus as TenantStatus

CONFIG_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CONFIG_ENTRIES = 50
MAX_CONFIG_VALUE = 1024


class Tier(StrEnum):
    BASIC = "basic"
    PREMIUM = "premium"


class RegionGroup(StrEnum):
    US = "us"
    EU = "eu"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    tier: Tier
    region_group: RegionGroup
    status: TenantStatus
    admin_email: str
    created_at: datetime
    updated_at: datetime
    config: dict[str, str] = field(default_factory=dict)
    status_reason: str | None = None
    version: int = 0
    # The API key API Gateway meters the tenant's requests by (its limits): set by the lifecycle.
    usage_key: str | None = None

    @classmethod
    def register(
        cls,
        *,
        tenant_id: str,
        name: str,
        tier: Tier,
        region_group: RegionGroup,
        admin_email: str,
        config: dict[str, str],
        now: datetime,
    ) -> tuple[Tenant, TenantRegistered]:
        tenant = cls(
            id=tenant_id,
            name=name,
            tier=tier,
            region_group=region_group,
            status=TenantStatus.PROVISIONING,
            admin_email=admin_email,
            created_at=now,
            updated_at=now,
            config=dict(config),
            version=1,
        )
        event = TenantRegistered(
            tenant_id=tenant_id,
            name=name,
            tier=tier.value,
            region_group=region_group.value,
            admin_email=admin_email,
            config=dict(config),
        )
        return tenant, event

    def _moved(self, status: TenantStatus, now: datetime, reason: str | None = None) -> Tenant:
        return replace(
            self, status=status, status_reason=reason, updated_at=now, version=self.version + 1
        )

    def _require(self, action: str, *allowed: TenantStatus) -> None:
        if self.status not in allowed:
            raise TransitionNotAllowed(self.id, self.status.value, action)

    def update(
        self, *, tier: Tier | None, config: dict[str, str] | None, now: datetime
    ) -> tuple[Tenant, TenantUpdated]:
        self._require(
            "update",
            TenantStatus.PROVISIONING,
            TenantStatus.ACTIVE,
            TenantStatus.SUSPENDED,
            TenantStatus.PROVISIONING_FAILED,
        )
        changed = replace(
            self,
            tier=tier if tier is not None else self.tier,
            config=dict(config) if config is not None else dict(self.config),
            updated_at=now,
            version=self.version + 1,
        )
        event = TenantUpdated(
            tenant_id=self.id,
            tier=changed.tier.value,
            previous_tier=self.tier.value,
            config=dict(changed.config),
        )
        return changed, event

    def suspend(self, now: datetime) -> tuple[Tenant, TenantSuspended]:
        self._require("suspend", TenantStatus.ACTIVE)
        return self._moved(TenantStatus.SUSPENDED, now), TenantSuspended(tenant_id=self.id)

    def activate(self, now: datetime) -> tuple[Tenant, TenantActivated]:
        self._require("activate", TenantStatus.SUSPENDED)
        return self._moved(TenantStatus.ACTIVE, now), TenantActivated(tenant_id=self.id)

    def retry_provisioning(self, now: datetime) -> tuple[Tenant, TenantProvisioningRetried]:
        """Back to PROVISIONING after a failed run: the provisioner provisions it as a new one."""
        self._require("retry provisioning", TenantStatus.PROVISIONING_FAILED)
        return self._moved(TenantStatus.PROVISIONING, now), TenantProvisioningRetried(
            tenant_id=self.id, previous_reason=self.status_reason
        )

    @property
    def leaving(self) -> bool:
        """Offboarding was requested already (it may be done)."""
        return self.status in (TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED)

    def request_offboarding(self, now: datetime) -> tuple[Tenant, TenantOffboardingRequested]:
        if self.status in (TenantStatus.OFFBOARDED, TenantStatus.OFFBOARDING):
            raise TransitionNotAllowed(self.id, self.status.value, "offboard")
        return self._moved(TenantStatus.OFFBOARDING, now), TenantOffboardingRequested(
            tenant_id=self.id, tier=self.tier.value, region_group=self.region_group.value
        )

    def with_usage_key(self, usage_key: str) -> Tenant:
        """This change also meters the tenant by `usage_key` (the change moves the version). No
        event: nothing outside the platform's edge reads it."""
        return replace(self, usage_key=usage_key)

    def rekeyed(self, usage_key: str, now: datetime) -> Tenant | None:
        """Metered by another key, as a change of its own; None when it already is."""
        if usage_key == self.usage_key:
            return None
        return replace(self, usage_key=usage_key, updated_at=now, version=self.version + 1)

    # Reactions to the provisioner's events. They return None when the event no longer applies
    # (a duplicate or a late arrival): the tenant is already past that point.
    def provisioned(self, now: datetime) -> Tenant | None:
        if self.status is not TenantStatus.PROVISIONING:
            return None
        return self._moved(TenantStatus.ACTIVE, now)

    def provisioning_failed(self, reason: str, now: datetime) -> Tenant | None:
        if self.status is not TenantStatus.PROVISIONING:
            return None
        return self._moved(TenantStatus.PROVISIONING_FAILED, now, reason)

    def deprovisioned(self, now: datetime) -> Tenant | None:
        if self.status is not TenantStatus.OFFBOARDING:
            return None
        return self._moved(TenantStatus.OFFBOARDED, now)


def validate_config(config: dict[str, str]) -> dict[str, str]:
    """A tenant's config: at most 50 entries, keys [A-Za-z0-9_.:-]{1,64}, values <= 1024 chars."""
    if len(config) > MAX_CONFIG_ENTRIES:
        raise ValueError(f"config has more than {MAX_CONFIG_ENTRIES} entries")
    for key, value in config.items():
        if not CONFIG_KEY.match(key):
            raise ValueError(f"config key {key!r} must match {CONFIG_KEY.pattern}")
        if len(value) > MAX_CONFIG_VALUE:
            raise ValueError(f"config value of {key!r} is longer than {MAX_CONFIG_VALUE}")
    return config
