"""EventPublisher on EventBridge: each message's source, detail-type and envelope on the bus.
The ids of rejected entries are returned (and their reasons logged), so the stream record is
retried; the event id is stable across retries, so consumers drop duplicates."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from tenant_context import OutboxMessage

_MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call

logger = logging.getLogger(__name__)


class EventBridgeEventPublisher:
    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._client = events_client
        self._bus_name = bus_name

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        failed: list[str] = []
        for start in range(0, len(messages), _MAX_ENTRIES):
            batch = messages[start : start + _MAX_ENTRIES]
            response = self._client.put_events(Entries=[self._entry(m) for m in batch])
            if not response.get("FailedEntryCount", 0):
                continue
            for message, result in zip(batch, response["Entries"], strict=True):
                if result.get("ErrorCode"):
                    failed.append(message.event_id)
                    logger.warning(
                        "EventBridge rejected %s: %s %s",
                        message.detail_type,
                        result.get("ErrorCode"),
                        result.get("ErrorMessage"),
                        extra={"event_id": message.event_id},
                    )
        return failed

    def _entry(self, message: OutboxMessage) -> dict[str, Any]:
        return {
            "Source": message.source,
            "DetailType": message.detail_type,
            "Detail": json.dumps(message.detail),
            "EventBusName": self._bus_name,
        }
