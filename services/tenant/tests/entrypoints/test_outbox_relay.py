"""The outbox relay: stream records of outbox INSERTs become events on the bus; a failed publish
fails only its record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tenant_testkit import LambdaContext, Wiring

from tenant_service.ports.event_publisher import PublishFailed


@pytest.fixture
def relay(wiring: Wiring, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tenant_service.entrypoints import outbox_relay as module

    monkeypatch.setattr(module, "container", wiring.container)
    return module


def _record(n: int, pk: str, detail_type: str = "TenantRegistered") -> dict[str, Any]:
    return {
        "eventID": f"ev{n}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": pk}, "sk": {"S": "OUTBOX"}},
            "NewImage": {
                "pk": {"S": pk},
                "sk": {"S": "OUTBOX"},
                "source": {"S": "saas.tenant"},
                "detail_type": {"S": detail_type},
                "detail": {"S": json.dumps({"metadata": {"event_id": pk}, "data": {}})},
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
    assert [(s, d) for s, d, _ in wiring.publisher.published] == [
        ("saas.tenant", "TenantRegistered"),
        ("saas.tenant", "TenantSuspended"),
    ]
    assert json.loads(wiring.publisher.published[0][2])["metadata"]["event_id"] == "OUTBOX#a"


def test_a_failed_publish_fails_only_its_record(relay: Any, wiring: Wiring) -> None:
    published = wiring.publisher.published

    class HalfBrokenBus:
        def publish(self, *, source: str, detail_type: str, detail_json: str) -> None:
            if detail_type == "TenantSuspended":
                raise PublishFailed("ThrottlingException: slow down")
            published.append((source, detail_type, detail_json))

    wiring.container.publisher.override(HalfBrokenBus())
    event = {"Records": [_record(1, "OUTBOX#a"), _record(2, "OUTBOX#b", "TenantSuspended")]}

    answer = relay.handler(event, LambdaContext())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert [d for _, d, _ in published] == ["TenantRegistered"]


def test_items_that_are_not_outbox_items_are_skipped(relay: Any, wiring: Wiring) -> None:
    answer = relay.handler({"Records": [_record(1, "TENANT#t1")]}, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert wiring.publisher.published == []
