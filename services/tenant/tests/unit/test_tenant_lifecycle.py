"""The tenant lifecycle: which transitions exist, which are refused, and what each records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tenant_service.domain.errors import TransitionNotAllowed
from tenant_service.domain.events import (
    PUBLISHED,
    TenantOffboardingRequested,
    TenantProvisioningRetried,
    TenantRegistered,
)
from tenant_service.domain.tenant import (
    RegionGroup,
    Tenant,
    TenantStatus,
    Tier,
    validate_config,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)
LATER = AT + timedelta(minutes=1)
S = TenantStatus


def _tenant(status: TenantStatus) -> Tenant:
    tenant, _ = Tenant.register(
        tenant_id="t1",
        name="Acme",
        tier=Tier.BASIC,
        region_group=RegionGroup.EU,
        admin_email="boss@acme.test",
        config={},
        now=AT,
    )
    return replace(tenant, status=status)


def test_a_registered_tenant_is_provisioning_and_says_so() -> None:
    tenant, event = Tenant.register(
        tenant_id="t1",
        name="Acme",
        tier=Tier.PREMIUM,
        region_group=RegionGroup.US,
        admin_email="boss@acme.test",
        config={"k": "v"},
        now=AT,
    )

    assert (tenant.status, tenant.version) == (S.PROVISIONING, 1)
    assert event == TenantRegistered(
        tenant_id="t1",
        name="Acme",
        tier="premium",
        region_group="us",
        admin_email="boss@acme.test",
        config={"k": "v"},
    )


COMMANDS = {
    "suspend": lambda t: t.suspend(LATER),
    "activate": lambda t: t.activate(LATER),
    "offboard": lambda t: t.request_offboarding(LATER),
    "retry provisioning": lambda t: t.retry_provisioning(LATER),
}
ALLOWED = {
    ("retry provisioning", S.PROVISIONING_FAILED): S.PROVISIONING,
    ("suspend", S.ACTIVE): S.SUSPENDED,
    ("activate", S.SUSPENDED): S.ACTIVE,
    **{
        ("offboard", s): S.OFFBOARDING
        for s in (S.PROVISIONING, S.ACTIVE, S.PROVISIONING_FAILED, S.SUSPENDED)
    },
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_from_each_status(command: str, status: TenantStatus) -> None:
    tenant = _tenant(status)
    expected = ALLOWED.get((command, status))

    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            COMMANDS[command](tenant)
    else:
        changed, event = COMMANDS[command](tenant)
        assert changed.status is expected
        assert changed.version == tenant.version + 1
        assert changed.updated_at == LATER
        assert type(event).__name__ in PUBLISHED


REACTIONS = {
    "provisioned": (lambda t: t.provisioned(LATER), S.PROVISIONING, S.ACTIVE),
    "failed": (
        lambda t: t.provisioning_failed("boom", LATER),
        S.PROVISIONING,
        S.PROVISIONING_FAILED,
    ),
    "deprovisioned": (lambda t: t.deprovisioned(LATER), S.OFFBOARDING, S.OFFBOARDED),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("reaction", list(REACTIONS))
def test_a_reaction_applies_only_from_its_status(reaction: str, status: TenantStatus) -> None:
    apply, source, target = REACTIONS[reaction]

    changed = apply(_tenant(status))

    if status is source:
        assert changed is not None
        assert changed.status is target
    else:
        assert changed is None


def test_a_failure_keeps_its_reason() -> None:
    changed = _tenant(S.PROVISIONING).provisioning_failed("quota exceeded", LATER)

    assert changed is not None
    assert changed.status_reason == "quota exceeded"


def test_a_retry_clears_the_failure_and_records_what_it_was() -> None:
    failed = _tenant(S.PROVISIONING).provisioning_failed("stack limit reached", LATER)
    assert failed is not None

    retried, event = failed.retry_provisioning(LATER)

    assert (retried.status, retried.status_reason) == (S.PROVISIONING, None)
    assert event == TenantProvisioningRetried(tenant_id="t1", previous_reason="stack limit reached")
    # The provisioner's answer to the new run applies again
    provisioned = retried.provisioned(LATER)
    assert provisioned is not None
    assert provisioned.status is S.ACTIVE


def test_an_update_keeps_what_it_was_not_given() -> None:
    tenant = replace(_tenant(S.ACTIVE), config={"a": "1"})

    changed, event = tenant.update(tier=Tier.PREMIUM, config=None, now=LATER)

    assert (changed.tier, changed.config) == (Tier.PREMIUM, {"a": "1"})
    assert (event.tier, event.previous_tier) == ("premium", "basic")


@pytest.mark.parametrize("status", [S.OFFBOARDING, S.OFFBOARDED])
def test_a_leaving_tenant_cannot_be_updated(status: TenantStatus) -> None:
    with pytest.raises(TransitionNotAllowed):
        _tenant(status).update(tier=Tier.PREMIUM, config=None, now=LATER)


def test_offboarding_carries_where_the_environment_lives() -> None:
    _, event = _tenant(S.ACTIVE).request_offboarding(LATER)

    assert event == TenantOffboardingRequested(tenant_id="t1", tier="basic", region_group="eu")


@pytest.mark.parametrize(
    "config",
    [{"bad key": "v"}, {"k" * 65: "v"}, {"k": "v" * 1025}, {f"k{n}": "v" for n in range(51)}],
)
def test_config_limits(config: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="config"):
        validate_config(config)
