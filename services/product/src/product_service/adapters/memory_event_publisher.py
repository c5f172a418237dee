"""EventPublisher fake: keeps what it was given; can be told to fail the next N publishes."""

from __future__ import annotations

from product_service.ports.event_publisher import PublishFailed
from product_service.ports.product_store import OutboxMessage


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []
        self.failures_left = 0

    def publish(self, message: OutboxMessage) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise PublishFailed("the bus is down (fake)")
        self.published.append(message)
