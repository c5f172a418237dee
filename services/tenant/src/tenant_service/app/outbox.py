"""Turning a domain event into an outbox entry: the envelope every consumer reads."""

from __future__ import annotations

from pydantic import BaseModel

from tenant_context import RegionGroup, Role, TenantContext, Tier, new_metadata, write_envelope
from tenant_service.domain.tenant import Tenant
from tenant_service.ports.tenant_repository import OutboxEvent

PRODUCER = "saas.tenant"


def outbox_event(
    tenant: Tenant,
    event: BaseModel,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> OutboxEvent:
    context = TenantContext(
        tenant_id=tenant.id,
        role=Role.SERVICE,
        user_id=PRODUCER,
        tier=Tier(tenant.tier.value),
        region_group=RegionGroup(tenant.region_group.value),
    )
    metadata = new_metadata(
        tenant_id=tenant.id,
        producer=PRODUCER,
        event_version=getattr(type(event), "event_version", 1),
        correlation_id=correlation_id,
        causation_id=causation_id,
        context=context,
    )
    return OutboxEvent(
        event_id=metadata.event_id,
        detail_type=type(event).__name__,
        detail=write_envelope(metadata, event),
    )
