"""Reading a tenant-table stream record (Lambda's DynamoDB-stream shape) into a TenantChange,
with boto3's TypeDeserializer. The stream's eventName is INSERT, MODIFY or REMOVE."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from provisioner.domain.changes import TenantChange
from provisioner.domain.errors import InvalidTenantRecord

_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """Decimals (every DynamoDB number) become int or float; sets become sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        return {key: _plain(_deserializer.deserialize(value)) for key, value in raw.items()}
    except (TypeError, ValueError) as exc:
        raise InvalidTenantRecord(None, f"the image is not DynamoDB JSON: {exc}") from None


def tenant_id_of(record: Mapping[str, Any]) -> str | None:
    """The record's key, readable even when the images are not."""
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    value = (keys.get("tenant_id") or {}).get("S")
    return value if isinstance(value, str) and value else None


def change_of(record: Mapping[str, Any]) -> TenantChange:
    stream = record.get("dynamodb") or {}
    change_id = record.get("eventID")
    if not isinstance(change_id, str) or not change_id:
        raise InvalidTenantRecord(tenant_id_of(record), "the record has no eventID")
    try:
        return TenantChange.from_images(
            change_id=change_id,
            kind=str(record.get("eventName")),
            old_image=image(stream.get("OldImage")),
            new_image=image(stream.get("NewImage")),
        )
    except InvalidTenantRecord as exc:
        if exc.tenant_id is None and (tenant_id := tenant_id_of(record)):
            raise InvalidTenantRecord(tenant_id, exc.problem) from None
        raise
