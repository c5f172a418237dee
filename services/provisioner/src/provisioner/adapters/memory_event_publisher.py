"""EventPublisher in memory, for unit tests; can be told to fail the next publishes."""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.domain.errors import PublishFailed
from provisioner.domain.events import OutgoingEvent


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[OutgoingEvent] = []
        self.failures_to_come = 0

    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        if self.failures_to_come > 0:
            self.failures_to_come -= 1
            raise PublishFailed("the bus is unavailable (scripted)")
        self.published.extend(events)

    def detail_types(self) -> list[str]:
        return [event.detail_type for event in self.published]
