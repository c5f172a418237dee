"""The outbox relay: stream records of outbox INSERTs become events on the bus; a failed publish
fails only its record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from tenant_testkit import LambdaContext, Wiring

from tenant_context import OutboxMessage


@pytest.fixture
def relay(wiring: Wiring) -> Any:
    from tenant_service.entrypoints import outbox_relay as module

    return module


def _record(n: int, sk: str, detail_type: str = "TenantRegistered") -> dict[str, Any]:
    """A stream record of the service table; an outbox item's sk is OUTBOX#<event_id>."""
    event_id = sk.partition("#")[2]
    return {
        "eventID": f"ev{n}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": "TENANT#t1"}, "sk": {"S": sk}},
            "NewImage": {
                "pk": {"S": "TENANT#t1"},
                "sk": {"S": sk},
                "event_id": {"S": event_id},
                "source": {"S": "saas.tenant"},
                "detail_type": {"S": detail_type},
                "detail": {"S": json.dumps({"metadata": {"event_id": event_id}, "data": {}})},
            },
            "SequenceNumber": str(100 + n),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": (
            "arn:aws:dynamodb:us-east-1:123456789012:table/saas-tenant-service/stream/x"
        ),
    }


def test_each_outbox_insert_is_published(relay: Any, wiring: Wiring) -> None:
    event = {"Records": [_record(1, "OUTBOX#a"), _record(2, "OUTBOX#b", "TenantSuspended")]}

    answer = relay.handler(event, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert [(m.source, m.detail_type) for m in wiring.publisher.published] == [
        ("saas.tenant", "TenantRegistered"),
        ("saas.tenant", "TenantSuspended"),
    ]
    assert wiring.publisher.published[0].detail["metadata"]["event_id"] == "a"
    assert wiring.publisher.published[0].event_id == "a"


def test_a_failed_publish_fails_only_its_record(relay: Any, wiring: Wiring) -> None:
    published = wiring.publisher.published

    class HalfBrokenBus:
        def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
            # The bus throttles TenantSuspended: its id comes back as failed.
            published.extend(m for m in messages if m.detail_type != "TenantSuspended")
            return [m.event_id for m in messages if m.detail_type == "TenantSuspended"]

    wiring.container.publisher = HalfBrokenBus()
    event = {"Records": [_record(1, "OUTBOX#a"), _record(2, "OUTBOX#b", "TenantSuspended")]}

    answer = relay.handler(event, LambdaContext())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert [m.detail_type for m in published] == ["TenantRegistered"]


def test_items_that_are_not_outbox_items_are_skipped(relay: Any, wiring: Wiring) -> None:
    answer = relay.handler({"Records": [_record(1, "USER#u1")]}, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert wiring.publisher.published == []


def test_an_item_of_the_key_shape_before_is_still_relayed(relay: Any, wiring: Wiring) -> None:
    # Given an outbox item written before the keys moved (pk OUTBOX#<event_id>, sk OUTBOX)
    record = _record(1, "OUTBOX#old")
    image = record["dynamodb"]["NewImage"]
    del image["event_id"]
    image["pk"], image["sk"] = {"S": "OUTBOX#old"}, {"S": "OUTBOX"}
    record["dynamodb"]["Keys"] = {"pk": image["pk"], "sk": image["sk"]}

    answer = relay.handler({"Records": [record]}, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert [m.event_id for m in wiring.publisher.published] == ["old"]
