"""A rejected PutEvents entry is an error (the stream record is retried), never a silent loss."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from provisioner.domain.errors import PublishFailed
from provisioner.domain.events import OutgoingEvent, TenantDeprovisioned
from provisioner.domain.tenant import RegionGroup, Tier


class RejectingEvents:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
        }


def test_a_rejected_entry_raises_publish_failed_naming_the_event():
    events = RejectingEvents()
    publisher = EventBridgeEventPublisher(events, "saas")
    event = OutgoingEvent.caused_by(
        "rec-1", TenantDeprovisioned(tenant_id="acme"), Tier.BASIC, RegionGroup.US
    )

    with pytest.raises(PublishFailed, match="TenantDeprovisioned: InternalFailure try again"):
        publisher.publish([event])

    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "saas.provisioner",
        "TenantDeprovisioned",
        "saas",
    )
