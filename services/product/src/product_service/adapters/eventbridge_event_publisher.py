"""EventPublisher on EventBridge: the bus of the outbox relay's own region. One PutEvents call
per ten messages (its limit); the entries it refuses are reported by event id."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from product_service.ports.event_publisher import PublishFailed
from tenant_context import OutboxMessage

MAX_ENTRIES = 10  # PutEvents takes at most ten entries per call

log = logging.getLogger(__name__)


class EventBridgeEventPublisher:
    def __init__(self, events_client: Any, *, bus_name: str) -> None:
        self._events = events_client
        self._bus = bus_name

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        refused: list[str] = []
        for start in range(0, len(messages), MAX_ENTRIES):
            chunk = messages[start : start + MAX_ENTRIES]
            try:
                response = self._events.put_events(Entries=[self._entry(m) for m in chunk])
            except Exception as exc:  # botocore errors and connection failures alike
                if start == 0:
                    raise PublishFailed(f"put_events failed: {exc}") from exc
                # Earlier chunks were published: only this one and the rest are not.
                log.warning("put_events failed: %s", exc)
                refused.extend(m.event_id for m in messages[start:])
                return refused
            if response.get("FailedEntryCount", 0):
                for message, entry in zip(chunk, response.get("Entries", []), strict=False):
                    if entry.get("ErrorCode"):
                        log.warning(
                            "put_events refused %s %s: %s %s",
                            message.detail_type,
                            message.event_id,
                            entry.get("ErrorCode"),
                            entry.get("ErrorMessage"),
                        )
                        refused.append(message.event_id)
        return refused

    def _entry(self, message: OutboxMessage) -> dict[str, str]:
        return {
            "Source": message.source,
            "DetailType": message.detail_type,
            "Detail": json.dumps(message.detail, separators=(",", ":")),
            "EventBusName": self._bus,
        }
