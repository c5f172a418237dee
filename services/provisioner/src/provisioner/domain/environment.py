"""The environment a tenant should have: which stack, in which region, with which parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from provisioner.domain.errors import UnknownRegionGroup
from provisioner.domain.tenant import RegionGroup, Tenant, Tier

DEFAULT_REGION_MAP: Mapping[str, str] = {
    RegionGroup.US.value: "us-east-1",
    RegionGroup.EU.value: "eu-west-1",
    RegionGroup.GLOBAL.value: "us-east-1",
}


def stack_name_for(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


@dataclass(frozen=True, slots=True)
class StackRef:
    """Where a tenant's stack lives. The region group also picks the deployment role."""

    tenant_id: str
    region_group: RegionGroup
    region: str

    @property
    def stack_name(self) -> str:
        return stack_name_for(self.tenant_id)


@dataclass(frozen=True, slots=True)
class DesiredEnvironment:
    """The stack a tenant should have: `parameters` are the template's parameters."""

    ref: StackRef
    tier: Tier
    parameters: Mapping[str, str]


def region_of(region_group: RegionGroup, region_map: Mapping[str, str]) -> str:
    try:
        return region_map[region_group.value]
    except KeyError:
        raise UnknownRegionGroup(region_group.value) from None


def stack_ref_for(tenant: Tenant, region_map: Mapping[str, str]) -> StackRef:
    return StackRef(
        tenant_id=tenant.tenant_id,
        region_group=tenant.region_group,
        region=region_of(tenant.region_group, region_map),
    )


def desired_environment(tenant: Tenant, region_map: Mapping[str, str]) -> DesiredEnvironment:
    return DesiredEnvironment(
        ref=stack_ref_for(tenant, region_map),
        tier=tenant.tier,
        parameters={
            "TenantId": tenant.tenant_id,
            "Tier": tenant.tier.value,
            "Config": tenant.config_json,
        },
    )
