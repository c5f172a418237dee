"""Test data in the shapes the provisioner meets: tenant images and Lambda's stream records."""

from __future__ import annotations

import itertools
from typing import Any

from boto3.dynamodb.types import TypeSerializer

_serializer = TypeSerializer()
_sequence = itertools.count(1)


def tenant_image(
    tenant_id: str = "acme",
    *,
    tier: str = "premium",
    region_group: str = "eu",
    status: str = "PROVISIONING",
    config: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A tenant item as the tenant service writes it to `saas-tenants`."""
    return {
        "tenant_id": tenant_id,
        "name": f"{tenant_id.title()} Ltd",
        "tier": tier,
        "region_group": region_group,
        "status": status,
        "status_reason": "",
        "config": {"theme": "dark"} if config is None else config,
        "admin_email": f"admin@{tenant_id}.example",
        "created_at": "2026-11-23T20:00:00+00:00",
        "updated_at": "2026-11-23T20:00:00+00:00",
        "version": 1,
    }


def dynamodb_json(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def stream_record(
    event_name: str,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One record of a DynamoDB stream (NEW_AND_OLD_IMAGES) as Lambda delivers it."""
    tenant_id = (new or old or {})["tenant_id"]
    sequence = next(_sequence)
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795464000,
        "Keys": {"tenant_id": {"S": tenant_id}},
        "SequenceNumber": f"{sequence:021d}",
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = dynamodb_json(new)
    if old is not None:
        body["OldImage"] = dynamodb_json(old)
    return {
        "eventID": event_id or f"c0ffee{sequence:026x}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": (
            "arn:aws:dynamodb:us-east-1:123456789012:table/saas-tenants/stream/"
            "2026-11-23T20:00:00.000"
        ),
    }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
