"""Whatever sequence of commands and provisioner reactions a tenant goes through, the lifecycle
holds: each change bumps the version by one, a refused command changes nothing, OFFBOARDED is
final, and nothing reaches ACTIVE except from PROVISIONING or SUSPENDED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tenant_service.domain.errors import TransitionNotAllowed
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier

AT = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = ["suspend", "activate", "offboard", "provisioned", "failed", "deprovisioned", "update"]


def _apply(tenant: Tenant, step: str, now: datetime) -> Tenant | None:
    """The tenant after `step`, or None when the step does not apply (refused or a no-op)."""
    try:
        if step == "suspend":
            return tenant.suspend(now)[0]
        if step == "activate":
            return tenant.activate(now)[0]
        if step == "offboard":
            return tenant.request_offboarding(now)[0]
        if step == "update":
            return tenant.update(tier=Tier.PREMIUM, config={"k": "v"}, now=now)[0]
    except TransitionNotAllowed:
        return None
    if step == "provisioned":
        return tenant.provisioned(now)
    if step == "failed":
        return tenant.provisioning_failed("boom", now)
    return tenant.deprovisioned(now)


# No deadline: a loaded CI machine must not turn a slow example into a failure.
@settings(deadline=None)
@given(st.lists(st.sampled_from(STEPS), max_size=30))
def test_any_sequence_keeps_the_lifecycle(steps: list[str]) -> None:
    tenant, _ = Tenant.register(
        tenant_id="t1",
        name="Acme",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
        admin_email="a@b.test",
        config={},
        now=AT,
    )
    for n, step in enumerate(steps, start=1):
        before = tenant
        after = _apply(tenant, step, AT + timedelta(seconds=n))
        if after is None:
            continue
        assert after.version == before.version + 1
        assert before.status is not TenantStatus.OFFBOARDED
        if after.status is TenantStatus.ACTIVE and before.status is not TenantStatus.ACTIVE:
            assert before.status in (TenantStatus.PROVISIONING, TenantStatus.SUSPENDED)
        if after.status is TenantStatus.OFFBOARDED:
            assert before.status is TenantStatus.OFFBOARDING
        tenant = after
