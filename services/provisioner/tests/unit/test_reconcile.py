"""The convergence rules, on in-memory fakes: every case the stream can bring."""

from __future__ import annotations

import pytest
from provisioner_builders import tenant_image

from provisioner.adapters.memory_clock import MemoryClock
from provisioner.adapters.memory_event_publisher import MemoryEventPublisher
from provisioner.adapters.memory_tenant_data_space import MemoryTenantDataSpace
from provisioner.adapters.memory_tenant_stacks import MemoryTenantStacks
from provisioner.app.reconcile import INTENT_HANDLERS, DeprovisioningFailed, Reconciler
from provisioner.app.stack_waiter import StackWaiter, WaitPolicy
from provisioner.domain.changes import Intent, TenantChange
from provisioner.domain.environment import DEFAULT_REGION_MAP
from provisioner.domain.errors import PublishFailed, StackStillInProgress
from provisioner.domain.events import (
    TenantDeprovisioned,
    TenantProvisioned,
    TenantProvisioningFailed,
)

EU = "eu-west-1"
STACK = "tenant-acme"


class World:
    def __init__(self, max_attempts: int = 3, wait_seconds: float = 60.0) -> None:
        self.stacks = MemoryTenantStacks()
        self.clock = MemoryClock()
        self.data_space = MemoryTenantDataSpace()
        self.publisher = MemoryEventPublisher()
        waiter = StackWaiter(self.stacks, self.clock, WaitPolicy(timeout_seconds=wait_seconds))
        self.reconciler = Reconciler(
            self.stacks,
            waiter,
            self.data_space,
            self.publisher,
            DEFAULT_REGION_MAP,
            max_attempts=max_attempts,
        )

    def handle(self, change: TenantChange):
        return self.reconciler.handle(change)

    def operations(self) -> list[str]:
        return [op for op, _ in self.stacks.calls if op != "describe"]


def insert(change_id: str = "rec-1", **kwargs) -> TenantChange:
    return TenantChange.from_images(change_id, "INSERT", None, tenant_image(**kwargs))


def modify(old: dict, new: dict, change_id: str = "rec-2") -> TenantChange:
    return TenantChange.from_images(change_id, "MODIFY", old, new)


@pytest.fixture
def world() -> World:
    return World()


def test_insert_creates_the_stack_in_the_region_of_the_group_and_announces_its_outputs(world):
    outcome = world.handle(insert(tier="premium", region_group="eu"))

    assert outcome.intent is Intent.PROVISION
    assert world.stacks.status_of(EU, STACK) == "CREATE_COMPLETE"
    assert world.stacks.stacks[(EU, STACK)].parameters == {
        "TenantId": "acme",
        "Tier": "premium",
        "Config": '{"theme":"dark"}',
    }
    [message] = world.publisher.published
    assert outcome.event is not None
    assert isinstance(outcome.event.data, TenantProvisioned)
    assert message.detail_type == "TenantProvisioned"
    data, metadata = message.detail["data"], message.detail["metadata"]
    assert data["stack_name"] == STACK
    assert data["region"] == EU
    assert data["outputs"]["ProductsTableName"] == "tenant-acme-products"
    assert data["outputs"]["OrdersTableName"] == "tenant-acme-orders"
    assert data["outputs"]["DataSpace"] == "memory:acme"
    assert (metadata["tier"], metadata["region_group"], metadata["causation_id"]) == (
        "premium",
        "eu",
        "rec-1",
    )
    assert message.event_id == metadata["event_id"] == outcome.event.event_id


def test_us_and_global_tenants_land_in_the_home_region(world):
    world.handle(insert(tenant_id="uno", region_group="us"))
    world.handle(insert(tenant_id="dos", region_group="global"))

    assert world.stacks.status_of("us-east-1", "tenant-uno") == "CREATE_COMPLETE"
    assert world.stacks.status_of("us-east-1", "tenant-dos") == "CREATE_COMPLETE"


def test_the_same_record_twice_makes_one_stack_and_the_same_event_id(world):
    first = world.handle(insert())
    second = world.handle(insert())

    assert world.operations() == ["create", "update"]  # the second is a no-op update
    assert len(world.stacks.stacks) == 1
    assert first.event is not None
    assert second.event is not None
    assert first.event.event_id == second.event.event_id


def test_a_complete_stack_found_on_insert_is_adopted_not_recreated(world):
    world.stacks.put(EU, STACK, "UPDATE_COMPLETE", TenantId="acme", Tier="basic", Config="{}")

    world.handle(insert(tier="premium"))

    assert world.operations() == ["update"]
    assert world.stacks.stacks[(EU, STACK)].parameters["Tier"] == "premium"
    assert world.publisher.detail_types() == ["TenantProvisioned"]


def test_a_stack_in_rollback_complete_is_deleted_and_created_again(world):
    world.stacks.put(EU, STACK, "ROLLBACK_COMPLETE", TenantId="acme")

    world.handle(insert())

    assert world.operations() == ["delete", "create"]
    assert world.stacks.status_of(EU, STACK) == "CREATE_COMPLETE"
    assert world.publisher.detail_types() == ["TenantProvisioned"]


@pytest.mark.parametrize("status", ["CREATE_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"])
def test_a_stack_in_a_failed_state_is_cleaned_up_and_retried(world, status):
    world.stacks.put(EU, STACK, status, TenantId="acme")

    world.handle(insert())

    assert world.operations()[:2] == ["delete", "create"]
    assert world.stacks.status_of(EU, STACK) == "CREATE_COMPLETE"


def test_a_create_that_rolls_back_once_is_retried_and_succeeds(world):
    world.stacks.fail_creates("Table already exists")

    world.handle(insert())

    assert world.operations() == ["create", "delete", "create"]
    assert world.publisher.detail_types() == ["TenantProvisioned"]


def test_after_every_attempt_fails_the_tenant_fails_with_cloudformations_reason():
    world = World(max_attempts=3)
    world.stacks.fail_creates("Limit exceeded: 2500 tables", "Limit exceeded", "Limit exceeded")

    outcome = world.handle(insert())

    assert world.operations().count("create") == 3
    assert outcome.event is not None
    assert isinstance(outcome.event.data, TenantProvisioningFailed)
    # The first failed resource of the last attempt, not the "cancelled" ones after it.
    assert outcome.event.data.reason == "ProductsTable: Limit exceeded"


def test_a_refused_create_fails_with_the_refusal_and_leaves_no_stack():
    world = World(max_attempts=2)
    world.stacks.reject_creates("No export named saas-missing found.", "No export named x found.")

    outcome = world.handle(insert())

    assert outcome.event is not None
    assert isinstance(outcome.event.data, TenantProvisioningFailed)
    assert outcome.event.data.reason == "No export named x found."
    assert world.stacks.status_of(EU, STACK) is None


def test_an_update_that_rolls_back_keeps_the_stack_and_fails_with_the_reason():
    world = World(max_attempts=2)
    world.stacks.put(EU, STACK, "CREATE_COMPLETE", TenantId="acme", Tier="premium", Config="{}")
    world.stacks.fail_updates("Parameter value too long", "Parameter value too long")

    outcome = world.handle(insert())

    assert world.operations() == ["update", "update"]  # never deleted: the tenant's data lives
    assert world.stacks.status_of(EU, STACK) == "UPDATE_ROLLBACK_COMPLETE"
    assert outcome.event is not None
    assert outcome.event.data == TenantProvisioningFailed(
        tenant_id="acme", reason="ConfigParameter: Parameter value too long"
    )


def test_config_change_of_an_active_tenant_updates_its_stack(world):
    active = tenant_image(status="ACTIVE", config={"theme": "dark"})
    world.handle(insert())

    outcome = world.handle(modify(active, {**active, "config": {"theme": "light"}}))

    assert outcome.intent is Intent.UPDATE
    assert world.stacks.stacks[(EU, STACK)].parameters["Config"] == '{"theme":"light"}'
    assert world.stacks.status_of(EU, STACK) == "UPDATE_COMPLETE"
    assert world.publisher.detail_types() == ["TenantProvisioned", "TenantProvisioned"]


def test_the_status_change_our_own_event_caused_changes_nothing(world):
    provisioning = tenant_image(status="PROVISIONING")

    outcome = world.handle(modify(provisioning, {**provisioning, "status": "ACTIVE"}))

    assert outcome.intent is Intent.NOTHING
    assert world.stacks.calls == []
    assert world.publisher.published == []


def test_offboarding_deletes_the_stack_and_the_data_space_then_announces_it(world):
    world.handle(insert())
    active = tenant_image(status="ACTIVE")

    outcome = world.handle(modify(active, {**active, "status": "OFFBOARDING"}))

    assert outcome.intent is Intent.DEPROVISION
    assert world.stacks.status_of(EU, STACK) == "DELETE_COMPLETE"
    assert "acme" not in world.data_space.spaces
    assert world.publisher.detail_types()[-1] == "TenantDeprovisioned"
    assert outcome.event is not None
    assert outcome.event.data == TenantDeprovisioned(tenant_id="acme")


def test_removing_a_tenant_whose_stack_is_already_gone_still_confirms_it(world):
    outcome = world.handle(
        TenantChange.from_images("rec-9", "REMOVE", tenant_image(status="ACTIVE"), None)
    )

    assert outcome.intent is Intent.DEPROVISION
    assert world.operations() == []
    assert world.publisher.detail_types() == ["TenantDeprovisioned"]


def test_a_stack_that_will_not_delete_is_an_error_to_retry_not_a_false_confirmation():
    world = World(max_attempts=2)
    world.handle(insert())
    world.stacks.fail_deletes("Table is being backed up", "Table is being backed up")
    active = tenant_image(status="ACTIVE")

    with pytest.raises(DeprovisioningFailed, match="Table is being backed up"):
        world.handle(modify(active, {**active, "status": "OFFBOARDING"}))

    assert world.publisher.detail_types() == ["TenantProvisioned"]


def test_a_stack_still_in_progress_is_waited_for_with_growing_pauses():
    world = World()
    world.stacks.in_progress_polls = 5

    world.handle(insert())

    assert world.stacks.status_of(EU, STACK) == "CREATE_COMPLETE"
    assert world.clock.sleeps == sorted(world.clock.sleeps)
    assert world.clock.sleeps[0] < world.clock.sleeps[-1]
    assert world.publisher.detail_types() == ["TenantProvisioned"]


def test_the_wait_is_bounded_and_a_retry_resumes_it():
    world = World(wait_seconds=30)
    world.stacks.put(EU, STACK, "CREATE_IN_PROGRESS", TenantId="acme")
    world.stacks.stacks[(EU, STACK)].polls_until_settled = 10_000
    world.stacks.stacks[(EU, STACK)].settles_to = "CREATE_COMPLETE"

    with pytest.raises(StackStillInProgress, match="CREATE_IN_PROGRESS"):
        world.handle(insert())

    assert world.clock.now <= 30
    assert world.publisher.published == []


def test_a_failed_publish_loses_nothing_the_retry_converges_and_publishes(world):
    world.publisher.failures_to_come = 1

    with pytest.raises(PublishFailed):
        world.handle(insert())
    world.handle(insert())

    assert world.operations() == ["create", "update"]
    assert world.publisher.detail_types() == ["TenantProvisioned"]


def test_a_replay_of_the_whole_history_ends_with_one_stack_in_its_latest_state(world):
    active = tenant_image(status="ACTIVE", config={"theme": "dark"})
    history = [
        insert(change_id="r1"),
        modify(active, {**active, "config": {"theme": "light"}}, change_id="r2"),
    ]

    for change in history + history:
        world.handle(change)

    assert len(world.stacks.stacks) == 1
    assert world.operations().count("create") == 1
    assert world.stacks.stacks[(EU, STACK)].parameters["Config"] == '{"theme":"light"}'


def test_every_intent_has_its_one_handler_in_the_dispatch_table():
    assert set(INTENT_HANDLERS) == set(Intent)


def test_a_refused_publish_names_the_event_and_the_tenant(world):
    world.publisher.failures_to_come = 1

    with pytest.raises(PublishFailed, match=r"TenantProvisioned [0-9a-f-]{36} of tenant acme"):
        world.handle(insert())
