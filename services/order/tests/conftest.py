from __future__ import annotations

import pytest

from tenant_context import RegionGroup, Role, TenantContext, Tier


def tenant(
    tenant_id: str = "t-acme",
    *,
    tier: Tier = Tier.BASIC,
    region_group: RegionGroup = RegionGroup.US,
    role: Role = Role.TENANT_USER,
) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id, role=role, user_id="u-1", tier=tier, region_group=region_group
    )


@pytest.fixture
def acme() -> TenantContext:
    return tenant("t-acme")


@pytest.fixture
def globex() -> TenantContext:
    return tenant("t-globex")
