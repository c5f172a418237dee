"""An event on its way to the bus: the outbox message every service commits with the change
that raised it, in the envelope every consumer reads. Pure values: where a message is stored
(its keys and TTL) is each service's adapter's business, held alike by docs/conventions.md and
the outbox convention test of tests/e2e/test_saga.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tenant_context.context import TenantContext
from tenant_context.envelope import new_metadata, write_envelope


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a change happens: the flow's correlation id and, for a reaction, the id of the event
    it reacts to (the unit of work records that event as processed in the same transaction)."""

    correlation_id: str | None = None
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    event_id: str
    source: str  # EventBridge source: "saas.<service>"
    detail_type: str  # the event name
    detail: dict[str, Any]  # the envelope, JSON-ready


def outbox_message(
    ctx: TenantContext, event: BaseModel, *, source: str, cause: Cause
) -> OutboxMessage:
    """The message for one domain event: a reaction passes the cause's correlation id on and
    names the cause's event as causation_id; a new flow starts its own correlation id."""
    metadata = new_metadata(
        tenant_id=ctx.tenant_id,
        producer=source,
        event_version=getattr(type(event), "event_version", 1),
        correlation_id=cause.correlation_id,
        causation_id=cause.event_id,
        context=ctx,
    )
    return OutboxMessage(
        event_id=metadata.event_id,
        source=source,
        detail_type=type(event).__name__,
        detail=write_envelope(metadata, event),
    )


def outbox_messages(
    ctx: TenantContext, events: Iterable[BaseModel], *, source: str, cause: Cause
) -> list[OutboxMessage]:
    return [outbox_message(ctx, event, source=source, cause=cause) for event in events]
