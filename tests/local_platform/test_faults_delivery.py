"""Delivery faults (`delivery.duplicate`, `delivery.reorder`): at-least-once delivery made
visible, and reordering only where AWS allows it (a standard queue; never a FIFO queue, never a
stream shard). First with fake clients, then through the platform with a fixture service whose
consumers count every delivery. Each test also checks the injector's counts."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter

import pytest

from saas_local.faults import FaultInjector, FaultPlan
from saas_local.pumps import SqsPump, StreamPump

from .conftest import FIXTURES, ROOT, stack_output
from .test_event_sources import STREAM_ARN, _stream_record

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
FIFO_ARN = "arn:aws:sqs:us-east-1:123456789012:orders.fifo"


def _plan(kind: str, share: float = 1.0, source: str = "*", seed: int = 3) -> FaultPlan:
    return FaultPlan.from_json(
        {"seed": seed, "faults": [{"kind": kind, "share": share, "source": source}]}
    )


class _Sqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

        self.released: list[tuple[str, int]] = []

    def delete_message_batch(self, QueueUrl, Entries):
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)

    def change_message_visibility_batch(self, QueueUrl, Entries):
        self.released.extend((e["ReceiptHandle"], e["VisibilityTimeout"]) for e in Entries)


def _messages(count: int) -> list[dict]:
    return [
        {
            "MessageId": f"m{n}",
            "ReceiptHandle": f"h{n}",
            "Body": f"body {n}",
            "MD5OfBody": "",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        }
        for n in range(count)
    ]


def _sqs_pump(arn: str, faults: FaultInjector, invoke) -> SqsPump:
    pump = SqsPump(
        name="test-sqs",
        clients=lambda service: None,
        queue_arn=arn,
        invoke=invoke,
        batch_size=10,
        report_batch_item_failures=True,
        faults=faults,
    )
    pump._url = "url"
    pump._rules = []  # the queue no EventBridge rule targets (no replay to check)
    return pump


def test_a_duplicated_message_is_delivered_again_in_a_later_batch():
    # Given every message of the queue is duplicated
    faults = FaultInjector(_plan("delivery.duplicate", source="orders"))
    batches: list[list[dict]] = []
    pump = _sqs_pump(QUEUE_ARN, faults, lambda event: batches.append(event["Records"]))
    sqs = _Sqs()
    # When a batch of three is received
    pump.process(sqs, _messages(3))
    # Then the batch is delivered, then the same messages once more (one more receive each)
    assert [[r["messageId"] for r in batch] for batch in batches] == [["m0", "m1", "m2"]] * 2
    assert [r["body"] for r in batches[1]] == ["body 0", "body 1", "body 2"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in batches[1]] == ["2"] * 3
    assert sqs.deleted == ["h0", "h1", "h2"]  # each message is deleted once
    assert faults.counts() == {"delivery.duplicate": 3}


def test_a_share_of_duplicates_hits_the_same_messages_for_the_same_seed():
    def duplicated(seed: int) -> list[str]:
        faults = FaultInjector(_plan("delivery.duplicate", share=0.3, seed=seed))
        batches: list[list[str]] = []
        pump = _sqs_pump(
            QUEUE_ARN, faults, lambda e: batches.append([r["messageId"] for r in e["Records"]])
        )
        for start in range(0, 100, 10):
            pump.process(_Sqs(), _messages(100)[start : start + 10])
        assert faults.counts().get("delivery.duplicate", 0) == sum(len(b) for b in batches) - 100
        return [m for batch in batches for m in batch]

    assert duplicated(1) == duplicated(1)
    assert duplicated(1) != duplicated(2)
    assert 10 < len(duplicated(1)) - 100 < 50


def test_a_standard_queue_batch_is_reordered_and_a_fifo_one_never(caplog):
    # Given every batch is to be reordered
    orders: list[list[str]] = []

    def invoke(event):
        orders.append([r["messageId"] for r in event["Records"]])

    faults = FaultInjector(_plan("delivery.reorder"))
    # When a standard queue's batch is delivered
    _sqs_pump(QUEUE_ARN, faults, invoke).process(_Sqs(), _messages(5))
    # Then it comes in another order, with every message once
    assert orders[0] != ["m0", "m1", "m2", "m3", "m4"]
    assert sorted(orders[0]) == ["m0", "m1", "m2", "m3", "m4"]
    assert faults.counts() == {"delivery.reorder": 1}

    # When a FIFO queue's batches are delivered
    fifo = _sqs_pump(FIFO_ARN, faults, invoke)
    with caplog.at_level(logging.WARNING, logger="saas_local.pumps"):
        fifo.process(_Sqs(), _messages(5))
        fifo.process(_Sqs(), _messages(5))
    # Then their order is kept, nothing more is counted, and the log says why, once
    assert orders[1:] == [["m0", "m1", "m2", "m3", "m4"]] * 2
    assert faults.counts() == {"delivery.reorder": 1}
    refusals = [r.message for r in caplog.records if "delivery.reorder" in r.message]
    assert refusals == [
        "test-sqs: delivery.reorder is not injected into orders.fifo: a FIFO queue keeps its order"
    ]


def _stream_pump(faults: FaultInjector, invoke) -> StreamPump:
    return StreamPump(
        name="test-stream",
        clients=lambda service: None,
        stream_arn=STREAM_ARN,
        invoke=invoke,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        batch_size=10,
        report_batch_item_failures=True,
        retry_backoff=0,
        faults=faults,
    )


def test_a_stream_duplicate_redelivers_in_order_from_the_record_hit_and_never_reorders(caplog):
    # Given every stream record may be duplicated, and reordering is asked for too
    plan = FaultPlan.from_json(
        {
            "seed": 3,
            "faults": [
                {"kind": "delivery.duplicate", "share": 0.5, "source": "t"},
                {"kind": "delivery.reorder", "share": 1, "source": "t"},
            ],
        }
    )
    faults = FaultInjector(plan)
    batches: list[list[str]] = []

    def invoke(event):
        batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])

    pump = _stream_pump(faults, invoke)
    buffer = [_stream_record(i, f"OUT#{i}") for i in range(1, 31)]
    # When the shard's records are delivered until none is left
    with caplog.at_level(logging.WARNING, logger="saas_local.pumps"):
        while buffer:
            pump._deliver("shard-1", buffer, 0)
    # Then every batch is in shard order, every record is delivered, some twice
    assert all(batch == sorted(batch, key=int) for batch in batches)
    delivered = Counter(s for batch in batches for s in batch)
    assert set(delivered) == {str(i) for i in range(1, 31)}
    assert set(delivered.values()) <= {1, 2, 3}
    redeliveries = faults.counts()["delivery.duplicate"]
    assert redeliveries > 0
    assert sum(delivered.values()) > 30
    # the first sight of each record is in shard order (a redelivery repeats a suffix)
    firsts = list(dict.fromkeys(s for batch in batches for s in batch))
    assert firsts == [str(i) for i in range(1, 31)]
    # and reordering a shard is refused, saying why
    assert "delivery.reorder" not in faults.counts()
    assert any("a stream shard keeps its order" in r.message for r in caplog.records)


# --- through the platform ----------------------------------------------------------------------


# The plan the tally platform starts with (`start_platform(faults=...)`): the standard queue's
# messages are delivered twice (its generated name holds its logical id; the FIFO queue's not).
STARTING_PLAN = _plan("delivery.duplicate", source="*TallyQueue*")


@pytest.fixture(scope="module")
def tally():
    from saas_local.testing import start_platform

    with start_platform(
        ROOT,
        [FIXTURES / "tally/template.yaml"],
        region_map={"us": "us-east-1"},
        faults=STARTING_PLAN,
    ) as platform:
        yield platform


def _counts(platform, table: str) -> dict[str, int]:
    items = platform.client("dynamodb").scan(TableName=table)["Items"]
    return {
        item["pk"]["S"][len("COUNT#") :]: int(item["deliveries"]["N"])
        for item in items
        if item["pk"]["S"].startswith("COUNT#")
    }


def _batches(platform, table: str, source: str) -> list[list[str]]:
    items = platform.client("dynamodb").scan(TableName=table)["Items"]
    return [
        [value["S"] for value in item["items"]["L"]]
        for item in items
        if item["pk"]["S"].startswith("BATCH#") and item["source"]["S"] == source
    ]


def test_through_the_platform_duplicated_messages_reach_the_consumer_twice(tally):
    platform = tally
    table = stack_output(platform, "saas-tally", "TallyTableName")
    url = stack_output(platform, "saas-tally", "TallyQueueUrl")
    queue = url.rsplit("/", 1)[-1]
    sqs = platform.client("sqs")
    try:
        # Given the platform started with a plan that delivers the standard queue's messages twice
        assert platform.platform.faults.plan == STARTING_PLAN
        assert platform.platform.faults.fault("delivery.duplicate", source=queue) is not None
        platform.platform.faults.reset_counts()
        bodies = [f"dup-{n}" for n in range(6)]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        # Then the consumer counts two deliveries of each, and the queue is empty
        platform.wait_until(
            lambda: all(_counts(platform, table).get(b) == 2 for b in bodies), timeout=60
        )
        assert platform.platform.faults.counts() == {"delivery.duplicate": 6}
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"
    finally:
        platform.platform.set_faults(FaultPlan())


def test_through_the_platform_a_fifo_queue_keeps_its_order_under_reorder(tally):
    platform = tally
    table = stack_output(platform, "saas-tally", "TallyTableName")
    url = stack_output(platform, "saas-tally", "TallyFifoQueueUrl")
    queue = url.rsplit("/", 1)[-1]
    sqs = platform.client("sqs")
    try:
        platform.platform.set_faults(_plan("delivery.reorder"))
        platform.platform.faults.reset_counts()
        bodies = [f"fifo-{n}" for n in range(8)]
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": b, "MessageGroupId": "g"}
                for n, b in enumerate(bodies)
            ],
        )
        platform.wait_until(
            lambda: all(_counts(platform, table).get(b) == 1 for b in bodies), timeout=60
        )
        delivered = [b for batch in _batches(platform, table, queue) for b in batch]
        # the batches' own order: each batch is in sending order, and nothing was counted
        for batch in _batches(platform, table, queue):
            assert batch == sorted(batch, key=lambda b: int(b.split("-")[1]))
        assert sorted(delivered) == sorted(bodies)
        assert "delivery.reorder" not in platform.platform.faults.counts()
    finally:
        platform.platform.set_faults(FaultPlan())


def test_through_the_platform_stream_records_are_redelivered_in_shard_order(tally):
    platform = tally
    table = stack_output(platform, "saas-tally", "TallyTableName")
    dynamodb = platform.client("dynamodb")
    try:
        platform.platform.set_faults(_plan("delivery.duplicate", share=0.5, source=table))
        platform.platform.faults.reset_counts()
        keys = [f"IN#{n:02d}" for n in range(12)]
        for key in keys:
            dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
        platform.wait_until(
            lambda: all(_counts(platform, table).get(k, 0) >= 1 for k in keys), timeout=60
        )
        time.sleep(1)  # redeliveries of the last batch come right after it
        counts = _counts(platform, table)
        redeliveries = platform.platform.faults.counts()["delivery.duplicate"]
        assert redeliveries > 0
        assert sum(counts[k] for k in keys) > len(keys)
        for batch in _batches(platform, table, "stream"):
            assert batch == sorted(batch)
    finally:
        platform.platform.set_faults(FaultPlan())


def test_the_tally_fixture_counts_what_it_is_given(tally):
    # Without faults each message is counted once (so the counts above are the faults' doing)
    platform = tally
    table = stack_output(platform, "saas-tally", "TallyTableName")
    url = stack_output(platform, "saas-tally", "TallyQueueUrl")
    platform.platform.set_faults(FaultPlan())
    platform.platform.faults.reset_counts()
    platform.client("sqs").send_message(QueueUrl=url, MessageBody="once")
    platform.wait_until(lambda: _counts(platform, table).get("once") == 1, timeout=60)
    time.sleep(1)
    assert _counts(platform, table)["once"] == 1
    assert platform.platform.faults.counts() == {}
    assert json.dumps(platform.platform.faults.plan.to_json()) == '{"seed": 0, "faults": []}'


def test_a_batch_the_stopping_platform_refused_is_handed_back_at_once():
    """A stop under a batch: the messages the function could not take are visible again at
    once, so the next start picks them up instead of waiting out the visibility timeout (a
    restart under a stream of orders once left accepted orders PENDING past 120 s); those done
    are deleted, and no duplicate is delivered after the stop."""
    from saas_local.workers import InvocationError

    faults = FaultInjector(_plan("delivery.duplicate", source="orders"))
    pump = None
    batches: list[int] = []

    def invoke(event):
        batches.append(len(event["Records"]))
        pump.signal_stop()  # the platform stops while the batch is on its way
        if len(event["Records"]) == 12:
            raise InvocationError("Runtime.Stopped", "the local platform is stopping")
        return {"batchItemFailures": [{"itemIdentifier": "m1"}]}

    pump = _sqs_pump(QUEUE_ARN, faults, invoke)
    sqs = _Sqs()
    pump.process(sqs, _messages(12))
    assert sqs.released == [(f"h{n}", 0) for n in range(12)]  # in two calls (10 at most each)
    assert sqs.deleted == []

    sqs = _Sqs()
    pump.process(sqs, _messages(3))  # the function took this batch but for m1
    assert sqs.released == [("h1", 0)]
    assert sqs.deleted == ["h0", "h2"]
    assert batches == [12, 3]  # the plan duplicates every message: not after the stop
