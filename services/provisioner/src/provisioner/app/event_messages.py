"""An event of the provisioner as the message the bus carries: `source` saas.provisioner and the
envelope of tenant-context in `detail` (tier and region_group in its metadata). The event id is
the one derived from the stream record (OutgoingEvent.caused_by), not a fresh one, so a record
retried after a failed publish publishes the same id and consumers drop the duplicate."""

from __future__ import annotations

from provisioner.domain.events import SOURCE, OutgoingEvent
from tenant_context import (
    OutboxMessage,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    new_metadata,
    write_envelope,
)


def message_for(event: OutgoingEvent) -> OutboxMessage:
    context = TenantContext(
        tenant_id=event.tenant_id,
        role=Role.SERVICE,
        user_id=SOURCE,
        tier=Tier(event.tier.value),
        region_group=RegionGroup(event.region_group.value),
    )
    metadata = new_metadata(
        tenant_id=event.tenant_id,
        producer=SOURCE,
        event_version=event.data.event_version,
        causation_id=event.causation_id,
        context=context,
        event_id=event.event_id,
    )
    return OutboxMessage(
        event_id=event.event_id,
        source=SOURCE,
        detail_type=event.detail_type,
        detail=write_envelope(metadata, event.data),
    )
