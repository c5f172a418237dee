"""Event source mappings without AWS: Lambda's event shapes, its filter syntax, and the stream
poller's checkpointing, retries and on-failure destination (fake invoke, fake clients)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from saas_local import lambda_events, moto_gaps
from saas_local.pumps import EventFilter, StreamPump, failed_item_ids
from saas_local.workers import InvocationError

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00"


def _stream_record(sequence, pk, event_name="INSERT", **image):
    raw = {
        "eventID": f"id-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": pk}},
            "NewImage": {"pk": {"S": pk}, **image},
            "SequenceNumber": str(sequence),
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return lambda_events.dynamodb_record(raw, STREAM_ARN)


def test_a_stream_record_has_lambdas_shape():
    record = _stream_record(1, "OUT#1", blob={"B": b"\x00\x01"})

    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    json.dumps(record)  # serialisable, as Lambda's event is


def test_an_sqs_record_has_lambdas_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "hello",
        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "x"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "a"}},
    }

    record = lambda_events.sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")

    assert record["messageId"] == "m1"
    assert record["receiptHandle"] == "r1"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["kind"]["stringValue"] == "a"
    assert record["md5OfBody"] == message["MD5OfBody"]


OUTBOX_INSERTS = [
    {
        "Pattern": json.dumps(
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "OUT#"}]}}}}
        )
    }
]


@pytest.mark.parametrize(
    ("pk", "event_name", "admitted"),
    [("OUT#1", "INSERT", True), ("OUT#1", "MODIFY", False), ("ORDER#1", "INSERT", False)],
)
def test_stream_filters_use_lambdas_pattern_syntax(pk, event_name, admitted):
    record = _stream_record(1, pk, event_name)

    assert EventFilter(OUTBOX_INSERTS).admits(record) is admitted


def test_sqs_filters_match_a_json_body_as_json():
    record = {"eventSource": "aws:sqs", "body": json.dumps({"detail-type": "OrderPlaced"})}
    placed = EventFilter([{"Pattern": '{"body": {"detail-type": ["OrderPlaced"]}}'}])
    other = EventFilter([{"Pattern": '{"body": {"detail-type": ["OrderCancelled"]}}'}])

    assert placed.admits(record)
    assert not other.admits(record)


def test_no_filters_admit_everything():
    assert EventFilter([]).admits({"anything": 1})


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{}]}, None),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(result, failed):
    assert failed_item_ids(result) == failed


class _Sqs:
    def __init__(self):
        self.sent = []

    def get_queue_url(self, QueueName):
        return {"QueueUrl": f"url/{QueueName}"}

    def send_message(self, QueueUrl, MessageBody):
        self.sent.append((QueueUrl, json.loads(MessageBody)))


def _pump(invoke, max_retries=2, report=True, sqs=None):
    return StreamPump(
        name="test",
        clients=lambda service: sqs,
        stream_arn=STREAM_ARN,
        invoke=invoke,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        batch_size=10,
        report_batch_item_failures=report,
        maximum_retry_attempts=max_retries,
        on_failure_arn="arn:aws:sqs:us-east-1:123456789012:failures",
        retry_backoff=0,
    )


def test_a_partial_failure_checkpoints_at_the_first_failed_record():
    # Given a function that fails record 2 the first time only
    batches = []

    def invoke(event):
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        batches.append(sequences)
        if len(batches) == 1:
            return {"batchItemFailures": [{"itemIdentifier": "2"}]}
        return {"batchItemFailures": []}

    pump = _pump(invoke)
    buffer = [_stream_record(i, f"OUT#{i}") for i in (1, 2, 3)]
    # When the poller delivers until the buffer is empty
    attempts = pump._deliver("shard-1", buffer, 0)
    attempts = pump._deliver("shard-1", buffer, attempts)
    # Then the retry starts at record 2, so per-key order holds, and nothing is left
    assert batches == [["1", "2", "3"], ["2", "3"]]
    assert buffer == []
    assert attempts == 0


class _Streams:
    """A shard of three records; get_records hands them out once, then nothing."""

    def __init__(self):
        self.records = [
            {
                "eventID": str(i),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": {"S": f"OUT#{i}"}},
                    "NewImage": {"pk": {"S": f"OUT#{i}"}},
                    "SequenceNumber": str(i),
                    "SizeBytes": 10,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for i in (1, 2, 3)
        ]

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_):
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator, Limit):
        records, self.records = self.records, []
        return {"Records": records, "NextShardIterator": "it-1"}


def test_records_already_read_survive_a_poller_restart():
    # Given a function whose first invocation fails with an error the pump does not expect
    # (the poller thread restarts; the shard iterator has already moved past the records)
    delivered = []

    def invoke(event):
        if not delivered:
            delivered.append(None)
            raise RuntimeError("worker pipe broke")
        delivered.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
        return {"batchItemFailures": []}

    streams = _Streams()
    pump = StreamPump(
        name="restart",
        clients=lambda service: streams,
        stream_arn=STREAM_ARN,
        invoke=invoke,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        batch_size=10,
        report_batch_item_failures=True,
    )
    # When the pump runs until the records are delivered (or a bound passes)
    pump.start()
    try:
        deadline = time.monotonic() + 10
        while delivered[1:] != ["1", "2", "3"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pump.signal_stop()
        pump.join()
    # Then every record read before the restart is still delivered, in order
    assert delivered[1:] == ["1", "2", "3"]


def test_after_the_retries_the_failed_records_go_to_the_destination():
    sqs = _Sqs()

    def invoke(event):
        raise InvocationError("Exception", "boom")

    pump = _pump(invoke, max_retries=1, sqs=sqs)
    buffer = [_stream_record(i, f"OUT#{i}") for i in (7, 8)]

    attempts = pump._deliver("shard-1", buffer, 0)
    assert (attempts, len(buffer)) == (1, 2)
    attempts = pump._deliver("shard-1", buffer, attempts)

    assert (attempts, buffer) == (0, [])
    [(url, record)] = sqs.sent
    assert url == "url/failures"
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Exception"
    info = record["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("7", "8")
    assert info["batchSize"] == 2
    assert info["streamArn"] == STREAM_ARN


def test_without_report_batch_item_failures_a_returned_list_is_ignored():
    calls = []

    def invoke(event):
        calls.append(event)
        return {"batchItemFailures": [{"itemIdentifier": "1"}]}

    buffer = [_stream_record(1, "OUT#1")]

    assert _pump(invoke, report=False)._deliver("shard-1", buffer, 0) == 0
    assert buffer == []


REPLAY = {
    "EventStartTime": datetime(2026, 1, 1, tzinfo=UTC),
    "EventEndTime": datetime(2026, 1, 2, tzinfo=UTC),
    "Destination": {"Arn": "arn:bus", "FilterArns": ["arn:rule/replays"]},
}


def _replayed(time, name="r1"):
    return json.dumps({"detail-type": "T", "time": time, "replay-name": name, "detail": {}})


@pytest.mark.parametrize(
    ("body", "rules", "admitted"),
    [
        (_replayed("2026-01-01T12:00:00Z"), ["arn:rule/replays"], True),
        (_replayed("2025-12-31T23:59:59Z"), ["arn:rule/replays"], False),
        (_replayed("2026-01-02T00:00:01Z"), ["arn:rule/replays"], False),
        (_replayed("2026-01-01T12:00:00Z"), ["arn:rule/live"], False),
        (json.dumps({"detail-type": "T", "time": "2020-01-01T00:00:00Z"}), [], True),
        ("not json", [], True),
    ],
)
def test_a_replayed_event_is_admitted_only_inside_its_window_and_filter(body, rules, admitted):
    assert moto_gaps.replay_admits(body, lambda name: REPLAY, rules) is admitted


def test_an_eventbridge_body_gets_its_account_and_other_bodies_are_left_alone():
    completed = json.loads(moto_gaps.complete_eventbridge_body('{"detail-type": "T", "id": "1"}'))

    assert completed == {"detail-type": "T", "id": "1", "account": "123456789012"}
    assert moto_gaps.complete_eventbridge_body("plain text") == "plain text"
    assert moto_gaps.complete_eventbridge_body('{"a": 1}') == '{"a": 1}'
