"""The outbox relay: committed events go to the bus; the ones that fail are retried later."""

from __future__ import annotations

from collections.abc import Sequence

from order_service.ports.event_publisher import EventPublisher
from order_service.ports.outbox import OutboxMessage


class Relay:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def relay(self, messages: Sequence[OutboxMessage]) -> set[str]:
        """The event ids that did not reach the bus."""
        return set(self._publisher.publish(messages)) if messages else set()
