"""EventPublisher on EventBridge: the bus of the relay's own region."""

from __future__ import annotations

import json
from typing import Any

from product_service.ports.event_publisher import PublishFailed
from product_service.ports.product_store import OutboxMessage


class EventBridgeEventPublisher:
    def __init__(self, events_client: Any, *, bus_name: str) -> None:
        self._events = events_client
        self._bus = bus_name

    def publish(self, message: OutboxMessage) -> None:
        try:
            response = self._events.put_events(
                Entries=[
                    {
                        "Source": message.source,
                        "DetailType": message.detail_type,
                        "Detail": json.dumps(message.detail, separators=(",", ":")),
                        "EventBusName": self._bus,
                    }
                ]
            )
        except Exception as exc:  # botocore errors and connection failures alike: retry later
            raise PublishFailed(f"put_events failed: {exc}") from exc
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise PublishFailed(
                f"put_events refused {message.detail_type} {message.event_id}: "
                f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
