"""The outbox relay's handler on the table's stream, with records read from that stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.adapters.memory_event_publisher import MemoryEventPublisher
from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.entrypoints import outbox_relay as relay
from tenant_context import TenantContext

from .. import conftest  # noqa: TID252


@pytest.fixture
def outbox_records(
    dynamodb_store: DynamoDBProductStore, make_tenant: Callable[..., TenantContext]
) -> list[dict[str, Any]]:
    """Three products created: the stream holds their items and their outbox inserts."""
    who = make_tenant()
    catalogue = conftest.catalogue(dynamodb_store)
    for name in ("a", "b", "c"):
        catalogue.create(who, name=name, sku=name, price=Decimal("1.00"), stock=1)
    return conftest.stream_records("us-east-1")


def _bus_queue() -> str:
    """A queue that receives every event of the bus `saas`, as a platform rule would."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="all-product-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(
        Name="everything-product", EventBusName="saas", EventPattern='{"source":["saas.product"]}'
    )
    events.put_targets(
        Rule="everything-product", EventBusName="saas", Targets=[{"Id": "q", "Arn": arn}]
    )
    return url


def _received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_only_outbox_inserts_are_published(
    outbox_records: list[dict[str, Any]], wired: Callable[..., Any], lambda_context: Any
) -> None:
    publisher = MemoryEventPublisher()
    wired(MemoryProductStore()).event_publisher = publisher

    response = relay.handler({"Records": outbox_records}, lambda_context)

    assert len(outbox_records) == 6  # three products, three outbox items
    assert response == {"batchItemFailures": []}
    assert [m.detail_type for m in publisher.published] == ["ProductCreated"] * 3
    assert {m.detail["data"]["name"] for m in publisher.published} == {"a", "b", "c"}


def test_a_failed_publish_is_reported_and_the_retry_loses_nothing(
    outbox_records: list[dict[str, Any]], wired: Callable[..., Any], lambda_context: Any
) -> None:
    # Given EventBridge down: the bus `saas` does not exist yet, so put_events fails
    response = relay.handler({"Records": outbox_records}, lambda_context)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    outbox_sequence = [
        r["dynamodb"]["SequenceNumber"]
        for r in outbox_records
        if r["dynamodb"]["Keys"]["sk"]["S"].startswith("OUTBOX#")
    ]
    assert failed == outbox_sequence

    # When it recovers and Lambda retries from the first failed record
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="saas")
    queue = _bus_queue()
    first = next(
        i for i, r in enumerate(outbox_records) if r["dynamodb"]["SequenceNumber"] == failed[0]
    )
    retry = relay.handler({"Records": outbox_records[first:]}, lambda_context)

    # Then every event reached the bus
    assert retry == {"batchItemFailures": []}
    delivered = _received(queue)
    assert sorted(e["detail"]["data"]["name"] for e in delivered) == ["a", "b", "c"]
    assert {e["detail-type"] for e in delivered} == {"ProductCreated"}
    assert all(e["source"] == "saas.product" for e in delivered)


def test_only_the_records_whose_event_the_bus_refused_are_retried(
    outbox_records: list[dict[str, Any]], wired: Callable[..., Any], lambda_context: Any
) -> None:
    publisher = MemoryEventPublisher()
    wired(MemoryProductStore()).event_publisher = publisher
    outbox = [r for r in outbox_records if r["dynamodb"]["Keys"]["sk"]["S"].startswith("OUTBOX#")]
    refused = outbox[1]
    publisher.refused = {refused["dynamodb"]["NewImage"]["event_id"]["S"]}

    response = relay.handler({"Records": outbox_records}, lambda_context)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": refused["dynamodb"]["SequenceNumber"]}]
    }
    assert len(publisher.published) == 2
