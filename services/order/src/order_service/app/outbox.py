"""Domain events -> outbox messages in the shared envelope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from order_service.domain.events import SOURCE, OrderEvent
from order_service.ports.outbox import OutboxMessage
from tenant_context import TenantContext, new_metadata, write_envelope


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a change happens: the flow's correlation id and, for a reaction, the event's id."""

    correlation_id: str | None = None
    event_id: str | None = None


def to_outbox(
    ctx: TenantContext, events: Iterable[OrderEvent], cause: Cause
) -> list[OutboxMessage]:
    messages = []
    for event in events:
        metadata = new_metadata(
            tenant_id=ctx.tenant_id,
            producer=SOURCE,
            event_version=type(event).event_version,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
            context=ctx,
        )
        messages.append(
            OutboxMessage(
                event_id=metadata.event_id,
                source=SOURCE,
                detail_type=type(event).__name__,
                detail=write_envelope(metadata, event),
            )
        )
    return messages
