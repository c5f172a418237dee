"""Where the outbox relay sends events: the event bus of the relay's region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tenant_context import OutboxMessage


class PublishFailed(Exception):
    """The bus could not be reached at all: none of the messages was published."""


class EventPublisher(Protocol):
    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """Publish the messages; the event ids the bus refused (empty: every one published).
        Raises PublishFailed when the call as a whole failed (nothing was published)."""
        ...
