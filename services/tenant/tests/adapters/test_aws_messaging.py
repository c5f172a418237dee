"""The EventBridge publisher and the SQS dead-letter adapter on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenant_context import OutboxMessage
from tenant_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from tenant_service.adapters.sqs_dead_letters import SqsDeadLetters


def _message(event_id: str, detail_type: str = "TenantSuspended") -> OutboxMessage:
    return OutboxMessage(
        event_id=event_id,
        source="saas.tenant",
        detail_type=detail_type,
        detail={"metadata": {"tenant_id": "t1"}, "data": {"tenant_id": "t1"}},
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_an_event_reaches_the_queue_subscribed_to_the_bus(aws: None) -> None:
    # Given the bus "saas" with a rule for the tenant service's events into a queue
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name="saas")
    url = sqs.create_queue(QueueName="watcher")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="tenant-events", EventBusName="saas", EventPattern='{"source": ["saas.tenant"]}'
    )
    events.put_targets(
        Rule="tenant-events", EventBusName="saas", Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    # When the publisher sends an envelope
    failed = EventBridgeEventPublisher(events, bus_name="saas").publish([_message("e1")])

    # Then the queue holds it, detail-type and envelope intact
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    body = json.loads(message["Body"])
    assert body["detail-type"] == "TenantSuspended"
    assert body["detail"]["data"] == {"tenant_id": "t1"}
    assert failed == []


def test_a_refused_entry_is_returned_so_the_relay_retries_it() -> None:
    class RefusingBus:
        def __init__(self) -> None:
            self.batches: list[int] = []

        def put_events(self, **request: Any) -> dict[str, Any]:
            self.batches.append(len(request["Entries"]))
            # The second entry of each batch is refused
            return {
                "FailedEntryCount": 1,
                "Entries": [
                    {"EventId": "eb-1"},
                    {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"},
                    *({"EventId": "eb-n"} for _ in request["Entries"][2:]),
                ],
            }

    bus = RefusingBus()
    messages = [_message(f"e{n}") for n in range(12)]

    failed = EventBridgeEventPublisher(bus, bus_name="saas").publish(messages)

    assert failed == ["e1", "e11"]
    assert bus.batches == [10, 2]  # put_events takes ten entries at most


def test_a_dead_letter_keeps_the_message_and_says_why(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="saas-tenant-events-dlq")["QueueUrl"]

    SqsDeadLetters(sqs, queue_name="saas-tenant-events-dlq").send('{"x": 1}', "unknown major 2")

    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=0)[
        "Messages"
    ]
    assert message["Body"] == '{"x": 1}'
    assert message["MessageAttributes"]["reason"]["StringValue"] == "unknown major 2"
