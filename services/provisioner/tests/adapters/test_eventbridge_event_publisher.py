"""A rejected PutEvents entry is an error (the stream record is retried), never a silent loss."""

from __future__ import annotations

import json
import logging
from typing import Any

from provisioner.adapters.eventbridge_event_publisher import EventBridgeEventPublisher
from provisioner.app.event_messages import message_for
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


class AcceptingEvents:
    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def deprovisioned(change_id: str = "rec-1", tenant_id: str = "acme") -> OutgoingEvent:
    return OutgoingEvent.caused_by(
        change_id, TenantDeprovisioned(tenant_id=tenant_id), Tier.BASIC, RegionGroup.US
    )


def test_a_rejected_entry_is_returned_failed_and_its_reason_logged(caplog):
    events = RejectingEvents()
    publisher = EventBridgeEventPublisher(events, "saas")
    event = deprovisioned()

    with caplog.at_level(logging.WARNING):
        failed = publisher.publish([message_for(event)])

    assert failed == [event.event_id]
    assert "TenantDeprovisioned: InternalFailure try again" in caplog.text
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "saas.provisioner",
        "TenantDeprovisioned",
        "saas",
    )


def test_the_entry_carries_the_envelope_with_the_events_own_id_and_cause():
    events = AcceptingEvents()
    event = deprovisioned()

    failed = EventBridgeEventPublisher(events, "saas").publish([message_for(event)])

    assert failed == []
    [[entry]] = events.calls
    detail = json.loads(entry["Detail"])
    assert detail["data"] == {"tenant_id": "acme"}
    assert detail["metadata"]["event_id"] == event.event_id
    assert detail["metadata"]["causation_id"] == "rec-1"
    assert detail["metadata"]["producer"] == "saas.provisioner"
    assert (detail["metadata"]["tier"], detail["metadata"]["region_group"]) == ("basic", "us")


def test_more_than_ten_messages_go_in_calls_of_ten():
    events = AcceptingEvents()
    messages = [message_for(deprovisioned(f"rec-{i}", f"t{i}")) for i in range(23)]

    assert EventBridgeEventPublisher(events, "saas").publish(messages) == []
    assert [len(call) for call in events.calls] == [10, 10, 3]
