"""The event envelope every service writes into EventBridge `detail` and reads back.

{"metadata": {"event_id", "event_version", "tenant_id", "correlation_id", "causation_id",
              "occurred_at", "producer", "tier", "region_group"},
 "data": {...the event's own fields...}}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from tenant_context.context import TenantContext, require_tenant_id

# Version of the envelope's own shape (metadata). Each event's schema has its own event_version.
ENVELOPE_MAJOR_VERSION = 1


class InvalidEnvelope(ValueError):
    """An event's detail is not a valid envelope; the message says what is wrong."""


class EventMetadata(BaseModel):
    # Readers ignore metadata fields they do not know: adding one is not a breaking change.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(min_length=1)
    event_version: int = Field(ge=1, description="Major version of the event's data schema.")
    tenant_id: str
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    occurred_at: AwareDatetime
    producer: str = Field(pattern=r"^saas\.[a-z][a-z0-9-]*$")
    tier: str | None = None
    region_group: str | None = None

    @field_validator("tenant_id", mode="before")
    @classmethod
    def _tenant_id_required(cls, value: object) -> str:
        return require_tenant_id(value)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    metadata: EventMetadata
    data: dict[str, Any]


def new_metadata(
    *,
    tenant_id: str,
    producer: str,
    event_version: int = 1,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    context: TenantContext | None = None,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
) -> EventMetadata:
    """Metadata for a new event. A new flow starts its own correlation id; a reaction passes the
    cause's correlation id on and names the cause's event_id as causation_id."""
    new_id = event_id or str(uuid.uuid4())
    return EventMetadata(
        event_id=new_id,
        event_version=event_version,
        tenant_id=require_tenant_id(tenant_id),
        correlation_id=correlation_id or new_id,
        causation_id=causation_id,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        tier=context.tier.value if context else None,
        region_group=context.region_group.value if context else None,
    )


def write_envelope(metadata: EventMetadata, data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-ready `detail` for EventBridge."""
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
    return {"metadata": metadata.to_json_dict(), "data": body}


def read_envelope(detail: Mapping[str, Any] | str | bytes) -> Envelope:
    """Parse an envelope from EventBridge `detail` (a mapping, or its JSON text).

    Raises MissingTenantId when the tenant id is missing or blank, InvalidEnvelope otherwise.
    """
    if isinstance(detail, str | bytes):
        try:
            detail = json.loads(detail)
        except json.JSONDecodeError as exc:
            raise InvalidEnvelope(f"detail is not JSON: {exc.msg}") from None
    if not isinstance(detail, Mapping):
        raise InvalidEnvelope("detail is not a JSON object")
    metadata = detail.get("metadata")
    if not isinstance(metadata, Mapping):
        raise InvalidEnvelope("detail.metadata is missing or not an object")
    require_tenant_id(metadata.get("tenant_id"))
    try:
        return Envelope.model_validate(detail)
    except ValidationError as exc:
        raise InvalidEnvelope(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(p) for p in err['loc']) or 'detail'}: {err['msg']}" for err in exc.errors()
    ]
    return "invalid envelope: " + "; ".join(problems)
