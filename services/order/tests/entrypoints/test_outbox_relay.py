"""The outbox relay's stream handler on moto: orders committed through the DynamoDB unit of
work, their outbox INSERTs read from the table's real stream and handed to the handler in
Lambda's shape, published to a real (moto) bus whose rule feeds a queue. EventBridge fails, then
recovers: nothing lost."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from order_testkit import POOLED_TABLE, TENANT_ACCESS_ROLE, create_orders_table, tenant

from order_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from order_service.container import Container, Settings, use_container
from order_service.domain.order import OrderLine
from order_service.entrypoints import outbox_relay
from tenant_context import Cause


class FlakyEvents:
    """An EventBridge client that is down for its first `outage` calls, then the real one."""

    def __init__(self, client, outage):
        self._client = client
        self.outage = outage

    def put_events(self, Entries):
        if self.outage > 0:
            self.outage -= 1
            return {
                "FailedEntryCount": len(Entries),
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "down"}]
                * len(Entries),
            }
        return self._client.put_events(Entries=Entries)


def stream_event(region="us-east-1"):
    """Every record of the table's stream, filtered like the template (outbox INSERTs)."""
    # botocore 1.44 addresses streams at <account>.streams-ddb..., which moto's in-process mock
    # does not route (server mode with an endpoint_url is unaffected).
    streams = boto3.client(
        "dynamodbstreams",
        region_name=region,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    arn = boto3.client("dynamodb", region_name=region).describe_table(TableName=POOLED_TABLE)[
        "Table"
    ]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    outbox = [
        {**r, "eventSourceARN": arn}
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["sk"]["S"].startswith("OUTBOX#")
    ]
    return json.loads(json.dumps({"Records": outbox}, default=str))


@pytest.fixture
def platform():
    with mock_aws():
        create_orders_table(boto3.client("dynamodb", region_name="us-east-1"))
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="saas")
        queue = sqs.create_queue(QueueName="everything")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="all-orders", EventBusName="saas", EventPattern='{"source": ["saas.order"]}'
        )
        events.put_targets(
            Rule="all-orders", EventBusName="saas", Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        c = Container(
            Settings(
                BACKEND="dynamodb",
                ORDERS_TABLE=POOLED_TABLE,
                TENANT_ACCESS_ROLE_ARN=TENANT_ACCESS_ROLE,
            )
        )
        flaky = FlakyEvents(events, outage=0)
        c.event_publisher = EventBridgeEventPublisher(flaky, "saas")
        use_container(c)

        def delivered():
            ids = []
            while True:
                got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
                if not got.get("Messages"):
                    return sorted(ids)
                for m in got["Messages"]:
                    ids.append(json.loads(m["Body"])["detail"]["metadata"]["event_id"])
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

        yield c, flaky, delivered
        use_container(None)


def test_eventbridge_failing_then_recovering_loses_no_event(platform, lambda_context):
    c, flaky, delivered = platform
    acme = tenant("t-acme")
    orders = [
        c.orders.place(acme, [OrderLine(product_id="p-1", quantity=1)], Cause()) for _ in range(3)
    ]
    event = stream_event()
    committed = sorted(
        r["dynamodb"]["NewImage"]["sk"]["S"][len("OUTBOX#") :] for r in event["Records"]
    )
    assert len(committed) == len(orders)

    # When EventBridge is down for the whole first delivery of the batch
    flaky.outage = len(committed)
    first = outbox_relay.handler(event, lambda_context)

    # Then every record is reported failed and nothing reached the bus
    assert [f["itemIdentifier"] for f in first["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in event["Records"]
    ]
    assert delivered() == []

    # When Lambda retries the batch after EventBridge recovered
    second = outbox_relay.handler(event, lambda_context)

    # Then every committed event is on the bus
    assert second["batchItemFailures"] == []
    assert delivered() == committed


def test_a_partial_outage_retries_only_what_failed(platform, lambda_context):
    c, flaky, delivered = platform
    acme = tenant("t-acme")
    for _ in range(3):
        c.orders.place(acme, [OrderLine(product_id="p-1", quantity=1)], Cause())
    event = stream_event()
    flaky.outage = 1

    first = outbox_relay.handler(event, lambda_context)

    assert len(first["batchItemFailures"]) == 1
    assert len(delivered()) == 2
    failed = first["batchItemFailures"][0]["itemIdentifier"]
    retry = {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] == failed]}
    assert outbox_relay.handler(retry, lambda_context)["batchItemFailures"] == []
    assert len(delivered()) == 1
