"""StreamRecords for the tenant table's DynamoDB stream, in Lambda's shape: the stream's
eventName is INSERT, MODIFY or REMOVE, the images DynamoDB JSON, read with Powertools'
TypeDeserializer (boto3's, without importing boto3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

from provisioner.domain.changes import TenantChange
from provisioner.domain.errors import InvalidTenantRecord


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


class DynamoDBStreamRecords:
    def __init__(self) -> None:
        self._deserializer = TypeDeserializer()

    def image(self, raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            return {key: _plain(self._deserialize(value)) for key, value in raw.items()}
        except (TypeError, ValueError, LookupError, AttributeError, ArithmeticError) as exc:
            raise InvalidTenantRecord(None, f"the image is not DynamoDB JSON: {exc}") from None

    def tenant_id_of(self, record: Mapping[str, Any]) -> str | None:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        value = (keys.get("tenant_id") or {}).get("S")
        return value if isinstance(value, str) and value else None

    def change_of(self, record: Mapping[str, Any]) -> TenantChange:
        stream = record.get("dynamodb") or {}
        change_id = record.get("eventID")
        if not isinstance(change_id, str) or not change_id:
            raise InvalidTenantRecord(self.tenant_id_of(record), "the record has no eventID")
        try:
            return TenantChange.from_images(
                change_id=change_id,
                kind=str(record.get("eventName")),
                old_image=self.image(stream.get("OldImage")),
                new_image=self.image(stream.get("NewImage")),
            )
        except InvalidTenantRecord as exc:
            if exc.tenant_id is None and (tenant_id := self.tenant_id_of(record)):
                raise InvalidTenantRecord(tenant_id, exc.problem) from None
            raise

    def _deserialize(self, value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            raise TypeError(f"{value!r} is not one typed DynamoDB value")
        return self._deserializer.deserialize(value)
