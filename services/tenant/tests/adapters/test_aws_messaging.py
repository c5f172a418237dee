"""The EventBridge publisher and the SQS dead-letter adapter on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenant_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from tenant_service.adapters.sqs_dead_letters import SqsDeadLetters
from tenant_service.ports.event_publisher import PublishFailed


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
    EventBridgeEventPublisher(events, bus_name="saas").publish(
        source="saas.tenant",
        detail_type="TenantSuspended",
        detail_json=json.dumps({"metadata": {"tenant_id": "t1"}, "data": {"tenant_id": "t1"}}),
    )

    # Then the queue holds it, detail-type and envelope intact
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    body = json.loads(message["Body"])
    assert body["detail-type"] == "TenantSuspended"
    assert body["detail"]["data"] == {"tenant_id": "t1"}


def test_a_refused_entry_raises_so_the_relay_retries_it() -> None:
    class RefusingBus:
        def put_events(self, **_: Any) -> dict[str, Any]:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            }

    with pytest.raises(PublishFailed, match="InternalFailure"):
        EventBridgeEventPublisher(RefusingBus(), bus_name="saas").publish(
            source="saas.tenant", detail_type="TenantSuspended", detail_json="{}"
        )


def test_a_dead_letter_keeps_the_message_and_says_why(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="saas-tenant-events-dlq")["QueueUrl"]

    SqsDeadLetters(sqs, queue_name="saas-tenant-events-dlq").send('{"x": 1}', "unknown major 2")

    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=0)[
        "Messages"
    ]
    assert message["Body"] == '{"x": 1}'
    assert message["MessageAttributes"]["reason"]["StringValue"] == "unknown major 2"
