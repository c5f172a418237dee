"""saas-redrive's parts on moto in process: the templates' destinations, the reasons it reads,
and what it moves or refuses for each kind of queue (through the local platform:
test_redrive.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from invariants import ROOT
from moto import mock_aws

from saas_devtools.redrive.destinations import Destination, destinations, find
from saas_devtools.redrive.mover import FunctionFailed, Redrive, dead_letter_reason

REGION = "us-east-1"


def test_every_dead_letter_queue_of_the_templates_is_found_with_where_it_goes() -> None:
    found = {d.queue: d for d in destinations(ROOT)}

    for service in ("order", "product", "tenant", "event-log"):
        dlq = found[f"saas-{service}-events-dlq"]
        assert (dlq.kind, dlq.sources) == ("sqs", (f"saas-{service}-events",))
    for service in ("order", "product", "tenant"):
        relay = found[f"saas-{service}-relay-failures"]
        assert (relay.kind, relay.stack, relay.function) == (
            "stream",
            f"saas-{service}",
            "RelayFunction",
        )
        assert relay.filters  # the relay sees outbox INSERTs only; a redrive too
    provisioner = found["saas-provisioner-stream-dlq"]
    assert (provisioner.kind, provisioner.function) == ("stream", "StreamFunction")
    targets = found["saas-rule-targets-dlq"]
    assert targets.kind == "rule-target"
    assert set(targets.sources) == {
        "saas-order-events",
        "saas-product-events",
        "saas-tenant-events",
        "saas-event-log-events",
    }
    with pytest.raises(LookupError, match="no template declares"):
        find(list(found.values()), "saas-nowhere-dlq")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"MessageAttributes": {"reason": {"StringValue": "bad envelope"}}}, "bad envelope"),
        ({"Body": json.dumps({"reason": "config too long", "record": {}})}, "config too long"),
        (
            {
                "Body": json.dumps(
                    {
                        "requestContext": {
                            "condition": "RetryAttemptsExhausted",
                            "approximateInvokeCount": 51,
                        },
                        "responseContext": {"functionError": "Unhandled"},
                    }
                )
            },
            "RetryAttemptsExhausted after 51 invocations (Unhandled)",
        ),
        (
            {"MessageAttributes": {"ERROR_MESSAGE": {"StringValue": "queue does not exist"}}},
            "queue does not exist",
        ),
        (
            {"Body": "{}", "Attributes": {"ApproximateReceiveCount": "5"}},
            "failed 5 receives; the consumer's log has the reason",
        ),
    ],
)
def test_the_reason_a_message_was_dead_lettered(message: dict[str, Any], reason: str) -> None:
    assert dead_letter_reason(message) == reason


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _queue(sqs: Any, name: str) -> str:
    return str(sqs.create_queue(QueueName=name)["QueueUrl"])


def _bodies(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(  # type: ignore[no-any-return]
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])


def test_an_sqs_dead_letter_goes_back_to_its_source_queue_without_its_reason(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    source, dlq = _queue(sqs, "events"), _queue(sqs, "events-dlq")
    reason = {"reason": {"DataType": "String", "StringValue": "tenant 't1' not found"}}
    sqs.send_message(QueueUrl=dlq, MessageBody='{"id": 1}', MessageAttributes=reason)
    destination = Destination("events-dlq", "sqs", "t.yaml", sources=("events",))

    dry = Redrive(sqs).run(destination, dry_run=True)
    assert [m["to"] for m in dry.moved] == ["queue events (dry run: not moved)"]
    assert len(_bodies(sqs, dlq)) == 1
    assert not _bodies(sqs, source)

    report = Redrive(sqs).run(destination)

    assert [(m["to"], m["reason"]) for m in report.moved] == [
        ("queue events", "tenant 't1' not found")
    ]
    [moved] = _bodies(sqs, source)
    assert moved["Body"] == '{"id": 1}'
    assert "reason" not in moved.get("MessageAttributes", {})
    assert not _bodies(sqs, dlq)


def test_what_cannot_be_placed_is_refused_and_stays(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    _queue(sqs, "a")
    _queue(sqs, "b")
    dlq = _queue(sqs, "shared-dlq")
    sqs.send_message(QueueUrl=dlq, MessageBody="{}")
    targets_dlq = _queue(sqs, "targets-dlq")
    target = {"TARGET_ARN": {"DataType": "String", "StringValue": "arn:aws:sqs:r:1:b"}}
    stranger = {"TARGET_ARN": {"DataType": "String", "StringValue": "arn:aws:sqs:r:1:elsewhere"}}
    sqs.send_message(QueueUrl=targets_dlq, MessageBody='{"n": 1}', MessageAttributes=target)
    sqs.send_message(QueueUrl=targets_dlq, MessageBody='{"n": 2}', MessageAttributes=stranger)
    sqs.send_message(QueueUrl=targets_dlq, MessageBody='{"n": 3}')

    shared = Redrive(sqs).run(Destination("shared-dlq", "sqs", "t.yaml", sources=("a", "b")))
    rule = Redrive(sqs).run(Destination("targets-dlq", "rule-target", "t.yaml", sources=("b",)))

    assert [r["why"] for r in shared.refused] == ["2 source queues feed it: which one?"]
    assert len(_bodies(sqs, dlq)) == 1
    assert [m["to"] for m in rule.moved] == ["queue b"]
    assert sorted(r["why"] for r in rule.refused) == [
        "its target arn:aws:sqs:r:1:elsewhere is not a queue the templates route to",
        "the message names no TARGET_ARN: the rule's target is unknown",
    ]
    assert len(_bodies(sqs, targets_dlq)) == 2


class Function:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []
        self.fail = fail

    def __call__(self, name: str, event: Mapping[str, Any]) -> Any:
        self.calls.append((name, event))
        if self.fail:
            raise FunctionFailed("Unhandled: boom")
        return {"batchItemFailures": []}


class Streams:
    """A DynamoDB stream's shard as GetShardIterator/GetRecords answer (moto's in-process
    streams API does not answer DescribeStream; the local platform's server does, see
    test_redrive.py)."""

    class exceptions:
        class TrimmedDataAccessException(Exception):
            pass

        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, keys: list[str]) -> None:
        self.records: list[dict[str, Any]] = [
            {
                "eventID": f"e{n}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "Keys": {"pk": {"S": "TENANT#t1"}, "sk": {"S": sk}},
                    "NewImage": {"pk": {"S": "TENANT#t1"}, "sk": {"S": sk}},
                    "SequenceNumber": str(100 + n),
                },
            }
            for n, sk in enumerate(keys)
        ]

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        return {"ShardIterator": kwargs["SequenceNumber"]}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        return {
            "Records": [r for r in self.records if int(r["dynamodb"]["SequenceNumber"]) >= start]
        }


def _stream_with_items(keys: list[str]) -> tuple[Any, str, str, list[str]]:
    streams = Streams(keys)
    arn = "arn:aws:dynamodb:us-east-1:1:table/outbox/stream/2026"
    return streams, arn, "shard-1", [r["dynamodb"]["SequenceNumber"] for r in streams.records]


def _failure(sqs: Any, url: str, arn: str, shard: str, first: str, last: str) -> None:
    body = {
        "requestContext": {
            "functionArn": "arn:aws:lambda:us-east-1:1:function:relay",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 51,
        },
        "responseContext": {"functionError": "BatchItemFailures"},
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "streamArn": arn,
        },
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


RELAY_FILTER = {
    "Pattern": json.dumps(
        {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "OUTBOX#"}]}}}}
    )
}


def test_a_stream_failure_invokes_the_function_with_the_records_read_again(aws: None) -> None:
    streams, arn, shard, sequence = _stream_with_items(["OUTBOX#e1", "EVENT#m1", "OUTBOX#e2"])
    sqs = boto3.client("sqs", region_name=REGION)
    url = _queue(sqs, "relay-failures")
    _failure(sqs, url, arn, shard, sequence[0], sequence[-1])
    relay = Destination(
        "relay-failures",
        "stream",
        "t.yaml",
        function="RelayFunction",
        stack="saas-x",
        filters=(RELAY_FILTER,),
    )
    function = Function()

    report = Redrive(sqs, streams=streams, invoke=function).run(relay)

    assert len(report.moved) == 1
    assert not report.refused
    [(name, event)] = function.calls
    assert name == "arn:aws:lambda:us-east-1:1:function:relay"
    # the function's filter applied, in Lambda's record shape
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"]] == [
        "OUTBOX#e1",
        "OUTBOX#e2",
    ]
    assert {r["eventSourceARN"] for r in event["Records"]} == {arn}
    assert not _bodies(sqs, url)


def test_a_stream_failure_is_refused_when_the_function_fails_or_the_records_are_gone(
    aws: None,
) -> None:
    streams, arn, shard, sequence = _stream_with_items(["OUTBOX#e1"])
    sqs = boto3.client("sqs", region_name=REGION)
    url = _queue(sqs, "relay-failures")
    _failure(sqs, url, arn, shard, sequence[0], sequence[0])
    missing = str(int(sequence[0]) + 1000)
    _failure(sqs, url, arn, shard, missing, missing)
    relay = Destination(
        "relay-failures",
        "stream",
        "t.yaml",
        function="RelayFunction",
        stack="saas-x",
        filters=(RELAY_FILTER,),
    )

    report = Redrive(sqs, streams=streams, invoke=Function(fail=True)).run(relay)

    assert not report.moved
    assert sorted(r["why"] for r in report.refused) == [
        "the function failed again: Unhandled: boom",
        f"the stream no longer holds record {missing} of shard {shard} (a stream keeps records "
        "24 hours): reconcile from the table",
    ]
    assert len(_bodies(sqs, url)) == 2
