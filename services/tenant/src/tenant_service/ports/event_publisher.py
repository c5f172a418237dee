"""Publishing outbox messages to the bus (the outbox relay's port)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tenant_context import OutboxMessage


class EventPublisher(Protocol):
    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """Publish; returns the event ids that failed (to be retried), empty when all went."""
        ...
