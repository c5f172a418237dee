"""What a stream record means, the desired environment, and reading a stack's state."""

from __future__ import annotations

import pytest
from provisioner_builders import tenant_image

from provisioner.domain.changes import Intent, TenantChange
from provisioner.domain.environment import DEFAULT_REGION_MAP, desired_environment
from provisioner.domain.errors import InvalidTenantRecord, UnknownRegionGroup
from provisioner.domain.stack import (
    Condition,
    StackEvent,
    StackState,
    Step,
    condition_of,
    first_failure_reason,
    step_towards_absent,
    step_towards_present,
)
from provisioner.domain.tenant import Tenant

ACTIVE = tenant_image(status="ACTIVE")


@pytest.mark.parametrize(
    ("kind", "old", "new", "intent"),
    [
        ("INSERT", None, tenant_image(status="PROVISIONING"), Intent.PROVISION),
        ("MODIFY", ACTIVE, {**ACTIVE, "config": {"theme": "light"}}, Intent.UPDATE),
        ("MODIFY", ACTIVE, {**ACTIVE, "tier": "basic"}, Intent.UPDATE),
        (
            "MODIFY",
            tenant_image(status="PROVISIONING", tier="basic"),
            tenant_image(status="PROVISIONING", tier="premium"),
            Intent.UPDATE,
        ),
        ("MODIFY", ACTIVE, {**ACTIVE, "status": "OFFBOARDING"}, Intent.DEPROVISION),
        (
            "MODIFY",
            tenant_image(status="PROVISIONING_FAILED"),
            tenant_image(status="PROVISIONING"),
            Intent.PROVISION,
        ),
        ("REMOVE", ACTIVE, None, Intent.DEPROVISION),
        ("MODIFY", tenant_image(status="SUSPENDED"), ACTIVE, Intent.UPDATE),
        # anything else: nothing
        ("MODIFY", tenant_image(status="PROVISIONING"), ACTIVE, Intent.NOTHING),
        ("MODIFY", ACTIVE, {**ACTIVE, "status": "SUSPENDED"}, Intent.NOTHING),
        ("MODIFY", ACTIVE, {**ACTIVE, "name": "Renamed"}, Intent.NOTHING),
        (
            "MODIFY",
            tenant_image(status="SUSPENDED"),
            tenant_image(status="SUSPENDED", config={"a": "b"}),
            Intent.NOTHING,
        ),
        (
            "MODIFY",
            tenant_image(status="OFFBOARDING"),
            tenant_image(status="OFFBOARDED"),
            Intent.NOTHING,
        ),
        ("REMOVE", tenant_image(status="OFFBOARDED"), None, Intent.NOTHING),
    ],
)
def test_what_a_record_means(kind, old, new, intent):
    change = TenantChange.from_images("rec", kind, old, new)

    assert change.intent() is intent


def test_delete_is_not_a_stream_event_name():
    with pytest.raises(InvalidTenantRecord, match="unknown stream event name 'DELETE'"):
        TenantChange.from_images("rec", "DELETE", ACTIVE, None)


def test_a_modify_without_its_old_image_is_invalid():
    with pytest.raises(InvalidTenantRecord, match="without an OldImage"):
        TenantChange.from_images("rec", "MODIFY", None, ACTIVE)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("tier", "gold", "tier"),
        ("region_group", "mars", "region_group"),
        ("tenant_id", "Not An Id", "tenant_id"),
        ("config", {"n": 1}, "config.n"),
    ],
)
def test_an_invalid_image_names_the_field(field, value, problem):
    with pytest.raises(InvalidTenantRecord, match=problem) as raised:
        Tenant.from_record({**ACTIVE, field: value})

    assert raised.value.tenant_id == (ACTIVE["tenant_id"] if field != "tenant_id" else "Not An Id")


def test_a_config_too_long_for_a_stack_parameter_is_refused():
    with pytest.raises(InvalidTenantRecord, match="more than 4096"):
        Tenant.from_record({**ACTIVE, "config": {"k": "v" * 5000}})


def test_the_desired_environment_of_a_premium_eu_tenant():
    tenant = Tenant.from_record(tenant_image(config={"b": "2", "a": "1"}))

    desired = desired_environment(tenant, DEFAULT_REGION_MAP)

    assert desired.ref.stack_name == "tenant-acme"
    assert desired.ref.region == "eu-west-1"
    assert desired.parameters == {
        "TenantId": "acme",
        "Tier": "premium",
        "Config": '{"a":"1","b":"2"}',  # canonical: key order never causes an update
    }


def test_a_region_group_missing_from_the_map_is_a_configuration_error():
    tenant = Tenant.from_record(tenant_image(region_group="eu"))

    with pytest.raises(UnknownRegionGroup, match="'eu'"):
        desired_environment(tenant, {"us": "us-east-1"})


@pytest.mark.parametrize(
    ("status", "condition", "present", "absent"),
    [
        (None, Condition.ABSENT, Step.CREATE, Step.DONE),
        ("DELETE_COMPLETE", Condition.ABSENT, Step.CREATE, Step.DONE),
        ("CREATE_COMPLETE", Condition.STABLE, Step.UPDATE, Step.DELETE),
        ("UPDATE_COMPLETE", Condition.STABLE, Step.UPDATE, Step.DELETE),
        ("UPDATE_ROLLBACK_COMPLETE", Condition.STABLE, Step.UPDATE, Step.DELETE),
        ("CREATE_IN_PROGRESS", Condition.IN_PROGRESS, Step.WAIT, Step.WAIT),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Condition.IN_PROGRESS, Step.WAIT, Step.WAIT),
        ("DELETE_IN_PROGRESS", Condition.IN_PROGRESS, Step.WAIT, Step.WAIT),
        ("ROLLBACK_COMPLETE", Condition.BROKEN, Step.DELETE, Step.DELETE),
        ("CREATE_FAILED", Condition.BROKEN, Step.DELETE, Step.DELETE),
        ("DELETE_FAILED", Condition.BROKEN, Step.DELETE, Step.DELETE),
        ("UPDATE_ROLLBACK_FAILED", Condition.BROKEN, Step.DELETE, Step.DELETE),
        ("REVIEW_IN_PROGRESS", Condition.BROKEN, Step.DELETE, Step.DELETE),
    ],
)
def test_convergence_rules(status, condition, present, absent):
    state = None if status is None else StackState(status=status)

    assert condition_of(state) is condition
    assert step_towards_present(state) is present
    assert step_towards_absent(state) is absent


def test_the_failure_reason_is_the_first_failed_resource_of_the_latest_operation():
    stack = "AWS::CloudFormation::Stack"
    events = [
        StackEvent("tenant-acme", stack, "CREATE_IN_PROGRESS", "User Initiated"),
        StackEvent("OldTable", "AWS::DynamoDB::Table", "CREATE_FAILED", "old attempt"),
        StackEvent("tenant-acme", stack, "UPDATE_IN_PROGRESS", "User Initiated"),
        StackEvent("ConfigParameter", "AWS::SSM::Parameter", "UPDATE_FAILED", None),
        StackEvent("ProductsTable", "AWS::DynamoDB::Table", "UPDATE_FAILED", "Quota reached"),
        StackEvent("OrdersTable", "AWS::DynamoDB::Table", "UPDATE_FAILED", "cancelled"),
        StackEvent("tenant-acme", stack, "UPDATE_ROLLBACK_COMPLETE", None),
    ]

    assert first_failure_reason(events) == "ProductsTable: Quota reached"
    assert first_failure_reason(events[:1]) is None
