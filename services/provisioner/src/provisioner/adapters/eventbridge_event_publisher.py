"""EventPublisher on EventBridge: `source` saas.provisioner, the envelope of tenant-context in
`detail` (tier and region_group in its metadata). A rejected entry raises PublishFailed so the
stream record is retried; the event id is stable across retries, so consumers drop duplicates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from provisioner.domain.errors import PublishFailed
from provisioner.domain.events import SOURCE, OutgoingEvent
from tenant_context import RegionGroup, Role, TenantContext, Tier, new_metadata, write_envelope

_MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


class EventBridgeEventPublisher:
    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._client = events_client
        self._bus_name = bus_name

    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        for start in range(0, len(events), _MAX_ENTRIES):
            batch = events[start : start + _MAX_ENTRIES]
            response = self._client.put_events(Entries=[self._entry(e) for e in batch])
            if response.get("FailedEntryCount", 0):
                failed = [
                    f"{event.detail_type}: {result.get('ErrorCode')} {result.get('ErrorMessage')}"
                    for event, result in zip(batch, response["Entries"], strict=True)
                    if result.get("ErrorCode")
                ]
                raise PublishFailed("EventBridge rejected " + "; ".join(failed))

    def _entry(self, event: OutgoingEvent) -> dict[str, Any]:
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
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(write_envelope(metadata, event.data)),
            "EventBusName": self._bus_name,
        }
