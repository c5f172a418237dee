"""In-memory EventPublisher for unit tests and `BACKEND=memory`."""

from __future__ import annotations

from collections.abc import Sequence

from tenant_context import OutboxMessage


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        self.published.extend(messages)
        return []
