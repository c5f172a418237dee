"""The outbox relay: publishes committed outbox messages to the bus. Its handler
(entrypoints/outbox_relay.py) runs on the service table's stream."""

from __future__ import annotations

from collections.abc import Sequence

from tenant_context import OutboxMessage
from tenant_service.ports.event_publisher import EventPublisher


class OutboxRelay:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """The event ids that failed (to be retried); empty when every message went."""
        return self._publisher.publish(messages) if messages else []
