"""The consumer of the provisioner's events, through its Lambda handler with SQS events."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from tenant_testkit import LambdaContext, Wiring

from tenant_context import new_metadata, write_envelope
from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWork
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier


@pytest.fixture
def consumer(wiring: Wiring) -> Any:
    from tenant_service.entrypoints import consumer as module

    return module


def _seed(wiring: Wiring, status: TenantStatus, tenant_id: str = "t1") -> None:
    at = wiring.clock.now()
    wiring.repository.tenants[tenant_id] = Tenant(
        id=tenant_id,
        name="Acme",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
        status=status,
        admin_email="boss@acme.test",
        created_at=at,
        updated_at=at,
        version=1,
    )


def _message(
    detail_type: str,
    data: dict[str, Any],
    *,
    tenant_id: str = "t1",
    event_id: str = "e1",
    version: int = 1,
    source: str = "saas.provisioner",
) -> str:
    metadata = new_metadata(
        tenant_id=tenant_id,
        producer="saas.provisioner",
        event_version=version,
        event_id=event_id,
        correlation_id="corr-1",
    )
    return json.dumps(
        {
            "version": "0",
            "id": "eb-1",
            "source": source,
            "detail-type": detail_type,
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": write_envelope(metadata, data),
        }
    )


def _sqs(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"r{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:saas-tenant-events",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def _provisioned(event_id: str = "e1") -> str:
    return _message(
        "TenantProvisioned",
        {"tenant_id": "t1", "stack_name": "tenant-t1", "region": "us-east-1", "outputs": {}},
        event_id=event_id,
    )


def test_provisioned_makes_the_tenant_active_and_invites_its_admin(
    consumer: Any, wiring: Wiring
) -> None:
    _seed(wiring, TenantStatus.PROVISIONING)

    answer = consumer.handler(_sqs(_provisioned()), LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert wiring.repository.tenants["t1"].status is TenantStatus.ACTIVE
    assert wiring.identity.users["boss@acme.test"] == ("user-1", "t1", "TenantAdmin")
    [invitation] = wiring.invitations.sent
    assert (invitation.to, invitation.tenant_id) == ("boss@acme.test", "t1")
    [created] = wiring.repository.outbox
    assert created.detail_type == "TenantUserCreated"
    assert created.detail["metadata"]["causation_id"] == "e1"
    assert created.detail["metadata"]["correlation_id"] == "corr-1"
    assert [u.username for u in wiring.repository.users.values()] == ["user-1"]


def test_a_duplicate_changes_nothing(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.PROVISIONING)
    consumer.handler(_sqs(_provisioned()), LambdaContext())
    state = (dict(wiring.repository.tenants), list(wiring.repository.outbox))

    answer = consumer.handler(_sqs(_provisioned()), LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert (wiring.repository.tenants, wiring.repository.outbox) == state
    assert len(wiring.invitations.sent) == 1


def test_a_late_provisioned_after_offboarding_began_changes_nothing(
    consumer: Any, wiring: Wiring
) -> None:
    _seed(wiring, TenantStatus.OFFBOARDING)

    consumer.handler(_sqs(_provisioned("late")), LambdaContext())

    assert wiring.repository.tenants["t1"].status is TenantStatus.OFFBOARDING
    assert wiring.identity.users == {}
    assert ("t1", "late") in wiring.repository.processed


def test_failed_provisioning_records_the_reason(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.PROVISIONING)
    body = _message("TenantProvisioningFailed", {"tenant_id": "t1", "reason": "stack rolled back"})

    consumer.handler(_sqs(body), LambdaContext())

    tenant = wiring.repository.tenants["t1"]
    assert (tenant.status, tenant.status_reason) == (
        TenantStatus.PROVISIONING_FAILED,
        "stack rolled back",
    )


def test_deprovisioned_completes_offboarding(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.OFFBOARDING)

    consumer.handler(_sqs(_message("TenantDeprovisioned", {"tenant_id": "t1"})), LambdaContext())

    assert wiring.repository.tenants["t1"].status is TenantStatus.OFFBOARDED


POISON = {
    "unknown major": (
        lambda: _message("TenantDeprovisioned", {"tenant_id": "t1"}, version=2),
        "event_version 2",
    ),
    "unknown event": (lambda: _message("TenantRenamed", {"tenant_id": "t1"}), "TenantRenamed"),
    "unknown source": (
        lambda: _message("TenantDeprovisioned", {"tenant_id": "t1"}, source="saas.order"),
        "saas.order",
    ),
    "not JSON": (lambda: "{oops", "not JSON"),
    "no envelope": (
        lambda: json.dumps(
            {"source": "saas.provisioner", "detail-type": "TenantDeprovisioned", "detail": {}}
        ),
        "metadata",
    ),
    "bad data": (lambda: _message("TenantProvisioningFailed", {"tenant_id": "t1"}), "reason"),
    "tenant mismatch": (
        lambda: _message("TenantDeprovisioned", {"tenant_id": "t2"}),
        "differs",
    ),
    "unknown tenant": (
        lambda: _message("TenantDeprovisioned", {"tenant_id": "zz"}, tenant_id="zz"),
        "zz",
    ),
}


@pytest.mark.parametrize("case", list(POISON))
def test_a_poison_message_goes_to_the_dlq_with_the_reason(
    consumer: Any, wiring: Wiring, case: str
) -> None:
    _seed(wiring, TenantStatus.OFFBOARDING)
    make, reason = POISON[case]
    body = make()

    answer = consumer.handler(_sqs(body), LambdaContext())

    assert answer == {"batchItemFailures": []}
    [(sent, why)] = wiring.dead_letters.messages
    assert sent == body
    assert reason in why
    assert wiring.repository.tenants["t1"].status is TenantStatus.OFFBOARDING


def test_a_failing_record_is_reported_alone_and_retried(
    consumer: Any, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two tenants, one of whose writes fails (a concurrent writer won)
    _seed(wiring, TenantStatus.OFFBOARDING, "t1")
    _seed(wiring, TenantStatus.OFFBOARDING, "t2")
    real_commit = MemoryUnitOfWork.commit

    def flaky_commit(uow: MemoryUnitOfWork) -> None:
        t2 = wiring.repository.tenants["t2"]
        if uow._ctx.tenant_id == "t2":
            wiring.repository.tenants["t2"] = replace(t2, version=t2.version + 5)
        real_commit(uow)

    monkeypatch.setattr(MemoryUnitOfWork, "commit", flaky_commit)
    bodies = (
        _message("TenantDeprovisioned", {"tenant_id": "t1"}, event_id="a"),
        _message("TenantDeprovisioned", {"tenant_id": "t2"}, tenant_id="t2", event_id="b"),
    )

    answer = consumer.handler(_sqs(*bodies), LambdaContext())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert wiring.repository.tenants["t1"].status is TenantStatus.OFFBOARDED
    assert wiring.dead_letters.messages == []


def test_every_event_the_service_reads_has_one_handler(consumer: Any) -> None:
    from tenant_service.entrypoints.event_readers import CONSUMED

    assert set(consumer.EVENT_HANDLERS) == {detail_type for _, detail_type in CONSUMED}
    assert len(CONSUMED) == len(consumer.EVENT_HANDLERS)  # no detail-type from two sources
    assert {source for source, _ in CONSUMED} == {consumer.SOURCE, consumer.OWN_SOURCE}
    for (source, detail_type), reader in CONSUMED.items():
        assert consumer.EVENT_HANDLERS[detail_type].source == source
        assert consumer.EVENT_HANDLERS[detail_type].reader is reader


def test_provisioned_gives_the_tenant_a_usage_key_in_its_tiers_plans(
    consumer: Any, wiring: Wiring
) -> None:
    _seed(wiring, TenantStatus.PROVISIONING)

    consumer.handler(_sqs(_provisioned()), LambdaContext())

    assert wiring.repository.tenants["t1"].usage_key == "saas-tenant-t1"
    assert wiring.usage_plans.keys == {"saas-tenant-t1": "basic"}
    assert wiring.repository.standing("t1").usage_key == "saas-tenant-t1"


def test_deprovisioned_deletes_the_tenants_usage_key(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.OFFBOARDING)
    wiring.usage_plans.keys["saas-tenant-t1"] = "basic"

    consumer.handler(_sqs(_message("TenantDeprovisioned", {"tenant_id": "t1"})), LambdaContext())

    assert wiring.usage_plans.keys == {}


@pytest.mark.parametrize(
    "detail_type", ["TenantSuspended", "TenantActivated", "TenantOffboardingRequested"]
)
def test_a_change_of_standing_flushes_every_authorizer_cache(
    consumer: Any, wiring: Wiring, detail_type: str
) -> None:
    _seed(wiring, TenantStatus.ACTIVE)
    body = _message(detail_type, {"tenant_id": "t1"}, source="saas.tenant")

    answer = consumer.handler(_sqs(body), LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert wiring.authorizer_caches.flushes >= 1
    assert wiring.dead_letters.messages == []


@pytest.mark.parametrize(
    "detail_type", ["TenantUserDisabled", "TenantUserEnabled", "TenantUserRemoved"]
)
def test_a_change_of_a_users_standing_flushes_every_authorizer_cache(
    consumer: Any, wiring: Wiring, detail_type: str
) -> None:
    _seed(wiring, TenantStatus.ACTIVE)
    body = _message(detail_type, {"tenant_id": "t1", "username": "u1"}, source="saas.tenant")

    answer = consumer.handler(_sqs(body), LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert wiring.authorizer_caches.flushes >= 1
    assert wiring.dead_letters.messages == []


def test_a_users_change_without_its_username_is_poison(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.ACTIVE)
    body = _message("TenantUserDisabled", {"tenant_id": "t1"}, source="saas.tenant")

    consumer.handler(_sqs(body), LambdaContext())

    assert wiring.authorizer_caches.flushes == 0
    [(_, reason)] = wiring.dead_letters.messages
    assert "username" in reason


def test_a_tier_change_moves_the_usage_key_and_flushes(consumer: Any, wiring: Wiring) -> None:
    _seed(wiring, TenantStatus.ACTIVE)
    wiring.repository.tenants["t1"] = replace(
        wiring.repository.tenants["t1"], tier=Tier.PREMIUM, usage_key="saas-tenant-t1"
    )
    wiring.usage_plans.keys["saas-tenant-t1"] = "basic"
    body = _message(
        "TenantUpdated",
        {"tenant_id": "t1", "tier": "premium", "previous_tier": "basic", "config": {}},
        source="saas.tenant",
    )

    consumer.handler(_sqs(body), LambdaContext())

    assert wiring.usage_plans.keys == {"saas-tenant-t1": "premium"}
    assert wiring.authorizer_caches.flushes >= 1


def test_a_tenant_event_from_another_source_is_poison(consumer: Any, wiring: Wiring) -> None:
    body = _message("TenantSuspended", {"tenant_id": "t1"}, source="saas.provisioner")

    consumer.handler(_sqs(body), LambdaContext())

    [(_, reason)] = wiring.dead_letters.messages
    assert "no handler for event 'TenantSuspended' from 'saas.provisioner'" in reason
