"""EventPublisher on an EventBridge bus."""

from __future__ import annotations

from typing import Any

from tenant_service.ports.event_publisher import PublishFailed


class EventBridgeEventPublisher:
    def __init__(self, client: Any, *, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, *, source: str, detail_type: str, detail_json: str) -> None:
        answer = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": detail_json,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            entry = answer["Entries"][0]
            raise PublishFailed(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")
