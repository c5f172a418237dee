"""EventPublisher on EventBridge: put_events in batches of ten; failed entries are returned."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tenant_context import OutboxMessage

PUT_EVENTS_MAX_ENTRIES = 10


class PutEvents(Protocol):
    """What the publisher needs of an EventBridge client."""

    def put_events(self, *, Entries: list[dict[str, str]]) -> Mapping[str, Any]: ...


class EventBridgeEventPublisher:
    def __init__(self, client: PutEvents, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(messages), PUT_EVENTS_MAX_ENTRIES):
            batch = messages[start : start + PUT_EVENTS_MAX_ENTRIES]
            try:
                response = self._client.put_events(
                    Entries=[
                        {
                            "EventBusName": self._bus_name,
                            "Source": message.source,
                            "DetailType": message.detail_type,
                            "Detail": json.dumps(message.detail, separators=(",", ":")),
                        }
                        for message in batch
                    ]
                )
            except Exception:
                failed.extend(m.event_id for m in batch)
                continue
            for message, entry in zip(batch, response.get("Entries", []), strict=False):
                if entry.get("ErrorCode") or not entry.get("EventId"):
                    failed.append(message.event_id)
            if len(response.get("Entries", [])) < len(batch):
                failed.extend(m.event_id for m in batch[len(response.get("Entries", [])) :])
        return failed
