"""saas-redrive through the local platform: a message that could not be processed lands in its
dead-letter queue with its reason; once the cause is fixed, the redrive moves it back and its
effect happens once. A stream's failure record is redriven by invoking the function with the
records read again from the stream, and refused when the stream no longer holds them.

The platform here runs the tenant service alone (no provisioner: nothing else reacts to the
tenant table), with a 10 s visibility timeout and 2 receives before a message is dead-lettered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from invariants import ROOT, call, dead_letters

from saas_devtools.redrive.cli import main as redrive

pytestmark = pytest.mark.slow

TENANT_TABLE = "saas-tenants"
DLQ = "saas-tenant-events-dlq"
RELAY_FAILURES = "saas-tenant-relay-failures"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from saas_local.testing import platform_parameters, start_platform

    log = tmp_path_factory.mktemp("redrive") / "functions.log"
    parameters = platform_parameters(visibility_timeout=10, MaxReceiveCount="2")
    with start_platform(
        ROOT,
        [ROOT / "services" / "tenant" / "template.yaml"],
        region_map={"us": "us-east-1"},
        parameters=parameters,
        function_log=log,
    ) as running:
        running.function_log = log
        yield running


@pytest.fixture
def platform_file(platform: Any, tmp_path: Path) -> Path:
    """What `make run` writes to .local/platform.json, for this platform."""
    path = tmp_path / "platform.json"
    path.write_text(json.dumps(platform.info))
    return path


def _registered(platform: Any, root: str) -> str:
    body = {
        "name": "Redriven",
        "tier": "basic",
        "region_group": "us",
        "admin_email": f"owner-{uuid.uuid4().hex[:8]}@redrive.test",
    }
    answer = call(platform, "POST", "/tenants", token=root, json_body=body, idempotent=True)
    assert answer.status == 202, answer.text
    return str(answer.json()["id"])


def _publish_provisioned(platform: Any, tenant_id: str) -> str:
    from tenant_context import new_metadata, write_envelope

    metadata = new_metadata(tenant_id=tenant_id, producer="saas.provisioner")
    detail = write_envelope(
        metadata,
        {
            "tenant_id": tenant_id,
            "stack_name": f"tenant-{tenant_id}",
            "region": "us-east-1",
            "outputs": {},
        },
    )
    answer = platform.client("events").put_events(
        Entries=[
            {
                "EventBusName": "saas",
                "Source": "saas.provisioner",
                "DetailType": "TenantProvisioned",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    return str(metadata.event_id)


def _depth(platform: Any, queue: str) -> int:
    sqs = platform.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _tenant(platform: Any, tenant_id: str) -> dict[str, Any] | None:
    item = platform.client("dynamodb").get_item(
        TableName=TENANT_TABLE, Key={"tenant_id": {"S": tenant_id}}
    )
    found: dict[str, Any] | None = item.get("Item")
    return found


def test_a_dead_letter_is_redriven_once_its_cause_is_fixed(
    platform: Any, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a PROVISIONING tenant whose record is gone when its TenantProvisioned arrives
    root = platform.login(*platform.system_admin)
    tenant_id = _registered(platform, root)
    record = _tenant(platform, tenant_id)
    assert record is not None
    platform.client("dynamodb").delete_item(
        TableName=TENANT_TABLE, Key={"tenant_id": {"S": tenant_id}}
    )
    event_id = _publish_provisioned(platform, tenant_id)
    # Then the consumer sends it to the DLQ with its reason (once per delivery: SQS may deliver
    # it twice)
    platform.wait_until(lambda: _depth(platform, DLQ) >= 1, timeout=60, interval=0.5)
    letters = [d for d in dead_letters(platform, platform.function_log) if d.queue == DLQ]
    assert letters
    for letter in letters:
        assert letter.reason == f"tenant '{tenant_id}' not found"

    # When the cause is fixed (the record is back) and the DLQ is redriven
    platform.client("dynamodb").put_item(TableName=TENANT_TABLE, Item=record)
    status = redrive(["--queue", DLQ, "--platform-file", str(platform_file), "--root", str(ROOT)])

    # Then the message went back to its queue and the tenant became ACTIVE, once
    said = capsys.readouterr().out
    assert status == 0, said
    for letter in letters:
        assert f"moved {letter.message_id} -> queue saas-tenant-events" in said
    assert f"{DLQ}: moved {len(letters)}, refused 0" in said
    platform.wait_until(
        lambda: (_tenant(platform, tenant_id) or {}).get("status", {}).get("S") == "ACTIVE",
        timeout=60,
        interval=0.5,
    )
    active = _tenant(platform, tenant_id)
    assert active is not None
    assert int(active["version"]["N"]) == int(record["version"]["N"]) + 1  # applied once
    assert _depth(platform, DLQ) == 0
    # And its processed marker is there: a second delivery of it would change nothing
    marker = platform.client("dynamodb").get_item(
        TableName="saas-tenant-service",
        Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": f"EVENT#{event_id}"}},
    )
    assert "Item" in marker


def _outbox_stream_range(platform: Any) -> tuple[str, str, str, str]:
    """(stream ARN, shard, first and last sequence number) of the tenant outbox's stream."""
    table = platform.client("dynamodb").describe_table(TableName="saas-tenant-service")["Table"]
    stream_arn = table["LatestStreamArn"]
    streams = platform.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    outbox = [r for r in records if r["dynamodb"]["Keys"]["sk"]["S"].startswith("OUTBOX#")]
    assert outbox, "the tenant service wrote no outbox item"
    first, last = outbox[0]["dynamodb"]["SequenceNumber"], outbox[-1]["dynamodb"]["SequenceNumber"]
    return stream_arn, shard["ShardId"], first, last


def _failure_record(platform: Any, stream: tuple[str, str, str, str]) -> str:
    """What Lambda sends to the relay's on-failure destination for a batch it gave up on."""
    stream_arn, shard, first, last = stream
    function_arn = next(
        f["FunctionArn"]
        for f in platform.client("lambda").list_functions()["Functions"]
        if "RelayFunction" in f["FunctionName"] and "tenant" in f["FunctionName"].lower()
    )
    body = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 51,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "BatchItemFailures",
        },
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "batchSize": 1,
            "streamArn": stream_arn,
        },
    }
    sqs = platform.client("sqs")
    url = sqs.get_queue_url(QueueName=RELAY_FAILURES)["QueueUrl"]
    return str(sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))["MessageId"])


def test_a_relay_failure_is_redriven_from_the_stream_or_refused_when_it_is_gone(
    platform: Any, platform_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a failure record of the tenant relay naming outbox records the stream still holds,
    # and one naming records it no longer holds
    root = platform.login(*platform.system_admin)
    _registered(platform, root)
    stream_arn, shard, first, last = _outbox_stream_range(platform)
    kept = _failure_record(platform, (stream_arn, shard, first, last))
    beyond = str(int(last) + 10**6)
    gone = _failure_record(platform, (stream_arn, shard, beyond, beyond))

    # When the relay's failure queue is redriven
    status = redrive(
        ["--queue", RELAY_FAILURES, "--platform-file", str(platform_file), "--root", str(ROOT)]
    )

    # Then the first is moved (the relay, invoked with the records read again, published them:
    # consumers are idempotent by event_id) and the second refused, left in the queue
    said = capsys.readouterr().out
    assert status == 1, said
    assert f"moved {kept} -> function " in said, said
    assert f"refused {gone}: the stream no longer holds record {beyond}" in said, said
    assert f"{RELAY_FAILURES}: moved 1, refused 1" in said
    assert _depth(platform, RELAY_FAILURES) == 1
