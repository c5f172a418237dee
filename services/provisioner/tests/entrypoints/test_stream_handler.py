"""The stream handler with DynamoDB-stream events in Lambda's own shape, the use case wired by the
container, and CloudFormation, the bus and the dead-letter queue swapped for fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from provisioner_builders import stream_event, stream_record, tenant_image

from provisioner.adapters.memory_clock import MemoryClock
from provisioner.adapters.memory_dead_letters import MemoryDeadLetters
from provisioner.adapters.memory_event_publisher import MemoryEventPublisher
from provisioner.adapters.memory_tenant_stacks import MemoryTenantStacks
from provisioner.container import Container, Settings, use_container
from provisioner.entrypoints.stream import handler

EU = "eu-west-1"


@dataclass
class LambdaContext:
    function_name: str = "provisioner-stream"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:provisioner"
    aws_request_id: str = "7a1c6f0e-5d1b-4f5e-9a43-0c3a0f1c2d3e"


@dataclass
class Fakes:
    stacks: MemoryTenantStacks
    publisher: MemoryEventPublisher
    dead_letters: MemoryDeadLetters


@pytest.fixture
def container() -> Iterator[Container]:
    container = Container(Settings.from_environ({"BACKEND": "memory"}))
    container.clock = MemoryClock()
    use_container(container)
    yield container
    use_container(None)


@pytest.fixture
def fakes(container) -> Fakes:
    fakes = Fakes(MemoryTenantStacks(), MemoryEventPublisher(), MemoryDeadLetters())
    container.tenant_stacks = fakes.stacks
    container.event_publisher = fakes.publisher
    container.dead_letters = fakes.dead_letters
    return fakes


def invoke(*records):
    return handler(stream_event(*records), LambdaContext())


def test_an_insert_provisions_the_tenant_and_reports_no_failure(fakes):
    result = invoke(stream_record("INSERT", new=tenant_image(tier="premium", region_group="eu")))

    assert result == {"batchItemFailures": []}
    assert fakes.stacks.status_of(EU, "tenant-acme") == "CREATE_COMPLETE"
    assert fakes.publisher.detail_types() == ["TenantProvisioned"]


def test_a_failed_record_holds_back_the_later_records_of_its_tenant_only(fakes):
    fakes.publisher.failures_to_come = 1  # the bus refuses acme's event once
    acme = tenant_image("acme", status="ACTIVE")
    first = stream_record("INSERT", new=tenant_image("acme"))
    later = stream_record("MODIFY", old=acme, new={**acme, "config": {"theme": "light"}})
    other = stream_record("INSERT", new=tenant_image("globex", region_group="us"))

    result = invoke(first, later, other)

    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": first["dynamodb"]["SequenceNumber"]},
            {"itemIdentifier": later["dynamodb"]["SequenceNumber"]},
        ]
    }
    assert ("update", "tenant-acme") not in fakes.stacks.calls  # never tried out of order
    assert fakes.stacks.status_of("us-east-1", "tenant-globex") == "CREATE_COMPLETE"
    assert fakes.publisher.detail_types() == ["TenantProvisioned"]


def test_the_retried_batch_converges_on_one_stack_and_publishes(fakes):
    fakes.publisher.failures_to_come = 1
    record = stream_record("INSERT", new=tenant_image())
    with pytest.raises(BatchProcessingError):  # every record failed: Lambda retries the batch
        invoke(record)

    result = invoke(record)

    assert result == {"batchItemFailures": []}
    assert [op for op, _ in fakes.stacks.calls if op != "describe"] == ["create", "update"]
    assert fakes.publisher.detail_types() == ["TenantProvisioned"]


def test_the_same_record_twice_in_a_batch_leaves_one_stack(fakes):
    record = stream_record("INSERT", new=tenant_image())

    invoke(record, record)

    assert len(fakes.stacks.stacks) == 1
    assert len({e.event_id for e in fakes.publisher.published}) == 1


def test_a_record_that_is_not_a_tenant_goes_to_the_dead_letter_queue_with_the_reason(fakes):
    record = stream_record("INSERT", new={**tenant_image(), "tier": "gold"})

    result = invoke(record)

    assert result == {"batchItemFailures": []}  # it would fail forever: do not block the shard
    [(letter, reason)] = fakes.dead_letters.letters
    assert letter["eventID"] == record["eventID"]
    assert "tenant record acme is invalid: tier" in reason
    assert fakes.stacks.calls == []


def test_a_record_whose_image_is_not_dynamodb_json_is_dead_lettered_with_the_reason(fakes):
    record = stream_record("INSERT", new=tenant_image())
    record["dynamodb"]["NewImage"]["tier"] = {"X": "premium"}

    result = invoke(record)

    assert result == {"batchItemFailures": []}
    [(_, reason)] = fakes.dead_letters.letters
    assert "tenant record acme is invalid: the image is not DynamoDB JSON" in reason
    assert fakes.stacks.calls == []


def test_a_remove_deprovisions_from_the_old_image(fakes):
    invoke(stream_record("INSERT", new=tenant_image()))

    result = invoke(stream_record("REMOVE", old=tenant_image(status="ACTIVE")))

    assert result == {"batchItemFailures": []}
    assert fakes.stacks.status_of(EU, "tenant-acme") == "DELETE_COMPLETE"
    assert fakes.publisher.detail_types() == ["TenantProvisioned", "TenantDeprovisioned"]


def test_the_modify_our_own_event_causes_is_read_and_ignored(fakes):
    provisioning = tenant_image(status="PROVISIONING")

    result = invoke(
        stream_record("MODIFY", old=provisioning, new={**provisioning, "status": "ACTIVE"})
    )

    assert result == {"batchItemFailures": []}
    assert fakes.stacks.calls == []
    assert fakes.publisher.published == []


class MeetingStacks(MemoryTenantStacks):
    """Each create waits until the other tenant's create has started: sequential handling of
    the batch would never get there (the barrier's timeout is a bound, not a timing)."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=30)

    def create(self, desired):
        self.barrier.wait()
        super().create(desired)


def test_the_tenants_of_a_batch_are_handled_at_the_same_time(container, fakes):
    stacks = MeetingStacks()
    container.tenant_stacks = stacks  # before first use: the reconciler is built with it

    result = invoke(
        stream_record("INSERT", new=tenant_image("acme")),
        stream_record("INSERT", new=tenant_image("globex", region_group="us")),
    )

    assert result == {"batchItemFailures": []}
    assert stacks.status_of(EU, "tenant-acme") == "CREATE_COMPLETE"
    assert stacks.status_of("us-east-1", "tenant-globex") == "CREATE_COMPLETE"
