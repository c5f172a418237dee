from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tenant_context import OutboxMessage


class EventPublisher(Protocol):
    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """Put every message on the bus; returns the event ids the bus did not take (the caller
        retries them), empty when all were published."""
        ...
