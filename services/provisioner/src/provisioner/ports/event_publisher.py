from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from provisioner.domain.events import OutgoingEvent


class EventPublisher(Protocol):
    def publish(self, events: Sequence[OutgoingEvent]) -> None:
        """Put every event on the bus, or raise PublishFailed (the caller retries)."""
        ...
