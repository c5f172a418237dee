"""EventPublisher in memory, for unit tests; can be told to refuse the next publishes."""

from __future__ import annotations

from collections.abc import Sequence

from tenant_context import OutboxMessage


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []
        self.failures_to_come = 0

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        if self.failures_to_come > 0:
            self.failures_to_come -= 1
            return [message.event_id for message in messages]  # the bus is unavailable
        self.published.extend(messages)
        return []

    def detail_types(self) -> list[str]:
        return [message.detail_type for message in self.published]
