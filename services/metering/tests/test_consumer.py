"""The consumer through its Lambda handler, with SQS records of EventBridge events."""

from __future__ import annotations

import json
from typing import Any

from metering_service.container import Container
from metering_service.entrypoints.consumer import EVENT_HANDLERS, handler
from metering_service.entrypoints.event_readers import CONSUMED
from tenant_context import (
    Cause,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    new_metadata,
    write_envelope,
)

TENANT = TenantContext(
    tenant_id="t-1",
    role=Role.TENANT_ADMIN,
    user_id="u-1",
    tier=Tier.BASIC,
    region_group=RegionGroup.US,
)


class Context:
    function_name = "consumer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:consumer"
    aws_request_id = "req-1"


def _record(message_id: str, source: str, detail_type: str, data: dict[str, Any]) -> dict[str, Any]:
    metadata = new_metadata(tenant_id="t-1", producer=source, context=TENANT)
    event = {"source": source, "detail-type": detail_type, "detail": write_envelope(metadata, data)}
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:saas-metering-events",
        "awsRegion": "us-east-1",
    }


def test_every_consumed_event_has_its_handler():
    assert sorted(EVENT_HANDLERS) == sorted(detail_type for _, detail_type in CONSUMED)


def test_tenant_deprovisioned_purges_the_tenants_meterings(fresh_container: Container):
    fresh_container.meterings.create(TENANT, "First", Cause())
    record = _record("m-1", "saas.provisioner", "TenantDeprovisioned", {"tenant_id": "t-1"})

    response = handler({"Records": [record]}, Context())

    assert response == {"batchItemFailures": []}
    assert fresh_container.unit_of_work.store.meterings == {}  # type: ignore[attr-defined]


def test_an_event_without_a_handler_fails_its_record_alone():
    unknown = _record("m-1", "saas.order", "OrderPlaced", {"order_id": "o-1"})
    known = _record("m-2", "saas.provisioner", "TenantDeprovisioned", {"tenant_id": "t-1"})

    response = handler({"Records": [unknown, known]}, Context())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
