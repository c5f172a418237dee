"""EventPublisher fake: keeps what it was given; can be told to fail its next N calls (the bus
down: PublishFailed, nothing published) or to refuse given event ids."""

from __future__ import annotations

from collections.abc import Sequence

from product_service.ports.event_publisher import PublishFailed
from tenant_context import OutboxMessage


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []
        self.failures_left = 0
        self.refused: set[str] = set()

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        if self.failures_left:
            self.failures_left -= 1
            raise PublishFailed("the bus is down (fake)")
        self.published.extend(m for m in messages if m.event_id not in self.refused)
        return [m.event_id for m in messages if m.event_id in self.refused]
