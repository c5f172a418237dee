"""EventPublisher on an EventBridge bus: put_events in batches of ten; failed entries are
returned by event id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tenant_context import OutboxMessage

PUT_EVENTS_MAX_ENTRIES = 10


class EventBridgeEventPublisher:
    def __init__(self, client: Any, *, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(messages), PUT_EVENTS_MAX_ENTRIES):
            batch = messages[start : start + PUT_EVENTS_MAX_ENTRIES]
            answer = self._client.put_events(
                Entries=[
                    {
                        "EventBusName": self._bus,
                        "Source": m.source,
                        "DetailType": m.detail_type,
                        "Detail": json.dumps(m.detail, separators=(",", ":")),
                    }
                    for m in batch
                ]
            )
            entries = answer.get("Entries", [])
            for n, message in enumerate(batch):
                entry = entries[n] if n < len(entries) else {}
                if entry.get("ErrorCode") or not entry.get("EventId"):
                    failed.append(message.event_id)
        return failed
