"""The event log recorder: every event kept whole, by tenant and time, readable.

Given events published on the bus and delivered by the event-log rule to its queue, when the
recorder handles the batch, then each is stored under TENANT#<id> / <occurred_at>#<event_id>
with the event whole, and the log reads back by tenant, window, detail-type and correlation id,
oldest first.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import boto3
import yaml

from saas_devtools.event_log import recorder
from saas_devtools.event_log.dynamodb_event_log import DynamoDBEventLog
from saas_devtools.event_log.logged_event import LoggedEvent
from saas_devtools.replay.into_handler import LambdaContext

REGION = "us-east-1"
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def _items(tenant_id: str) -> list[dict]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    return dynamodb.query(
        TableName="saas-event-log",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    )["Items"]


def _log() -> DynamoDBEventLog:
    return DynamoDBEventLog(boto3.client("dynamodb", region_name=REGION), "saas-event-log")


def test_each_event_is_kept_whole_under_its_tenant_and_time(record, saga) -> None:
    events = saga("t-1") + saga("t-2")

    response = record(events)

    assert response == {"batchItemFailures": []}
    items = _items("t-1")
    assert len(items) == 5
    first = events[0]
    metadata = first["detail"]["metadata"]
    sort_key = f"2026-11-23T20:00:00.000000Z#{metadata['event_id']}"
    stored = next(i for i in items if i["sk"]["S"] == sort_key)
    kept = json.loads(stored["event"]["S"])
    assert kept["detail"] == first["detail"]  # the envelope whole
    assert (kept["source"], kept["detail-type"]) == ("saas.shop", "OrderPlaced")
    assert stored["correlation_id"]["S"] == metadata["correlation_id"]
    assert len(_items("t-2")) == 5


def test_recording_an_event_twice_keeps_one_copy(record, saga) -> None:
    events = saga("t-1")

    record(events)
    record(events[:2])

    assert len(_items("t-1")) == 5


def test_an_event_without_a_valid_envelope_fails_alone_with_its_reason(
    record, saga, make_event
) -> None:
    good = saga("t-1")[:1]
    no_tenant = make_event("saas.shop", "OrderPlaced", {"order_id": "o"}, tenant_id="t-1", at=START)
    no_tenant["detail"]["metadata"]["tenant_id"] = " "

    lines = io.StringIO()
    previous = recorder.logger.registered_handler.setStream(lines)
    try:
        response = record([*good, no_tenant])
    finally:
        recorder.logger.registered_handler.setStream(previous)

    assert len(response["batchItemFailures"]) == 1
    assert len(_items("t-1")) == 1
    errors = [json.loads(line) for line in lines.getvalue().splitlines() if '"ERROR"' in line]
    assert [e["message"] for e in errors] == ["event not recorded"]
    assert "tenant_id is missing or blank" in errors[0]["reason"]


def test_the_log_reads_by_window_detail_type_and_correlation_oldest_first(record, saga) -> None:
    events = saga("t-1")
    record(list(reversed(events)))
    first_correlation = events[0]["detail"]["metadata"]["correlation_id"]

    everything = list(_log().read("t-1"))
    window = list(
        _log().read("t-1", start=START + timedelta(seconds=1), end=START + timedelta(minutes=1))
    )
    placed = list(_log().read("t-1", detail_types=["OrderPlaced"]))
    first_order = list(_log().read("t-1", correlation_id=first_correlation))

    assert [e.occurred_at for e in everything] == sorted(e.occurred_at for e in everything)
    assert [e.detail_type for e in window] == ["StockReserved", "OrderPlaced"]
    assert [e.detail_type for e in placed] == ["OrderPlaced", "OrderPlaced"]
    assert [e.detail_type for e in first_order] == [
        "OrderPlaced",
        "StockReserved",
        "OrderCancelled",
    ]
    assert list(_log().read("t-unknown")) == []


def test_a_direct_sqs_record_that_is_not_json_is_a_batch_item_failure(aws) -> None:
    event = {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r",
                "body": "not json",
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn",
                "awsRegion": REGION,
            }
        ]
    }

    response = recorder.handler(event, LambdaContext("saas-event-log-recorder"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_the_recorder_imports_none_of_the_developer_tools() -> None:
    """Runtime and development parts are kept apart: the Lambda package needs only these."""
    code = (
        "import sys, saas_devtools.event_log.recorder\n"
        "loaded = [m for m in sys.modules if m.startswith(('saas_devtools.contracts', "
        "'saas_devtools.replay', 'hypothesis', 'moto', 'boto3'))]\n"
        "print(','.join(loaded))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == ""


def test_an_event_published_twice_with_a_new_time_is_recorded_once(aws, saga) -> None:
    # Given the event log and its ids table, as the template declares them
    from .conftest import TEMPLATE, _TemplateLoader, create_event_log_table

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_event_log_table(dynamodb)
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    ids = template["Resources"]["EventIdsTable"]["Properties"]
    dynamodb.create_table(
        TableName=ids["TableName"],
        AttributeDefinitions=ids["AttributeDefinitions"],
        KeySchema=ids["KeySchema"],
        BillingMode=ids["BillingMode"],
    )
    log = DynamoDBEventLog(dynamodb, "saas-event-log", ids_table=ids["TableName"])
    first = LoggedEvent.from_eventbridge(saga("t-1")[0])
    # When a producer's retry publishes the same event_id stamped a second later
    again = dataclasses.replace(first, occurred_at=first.occurred_at + timedelta(seconds=1))
    assert again.sort_key != first.sort_key

    assert log.record(first, now=START) is True
    assert log.record(again, now=START) is False
    assert log.record(first, now=START) is False

    # Then the log holds the event once, as first recorded
    items = _items("t-1")
    assert [i["sk"]["S"] for i in items] == [first.sort_key]
