"""Where the outbox relay sends events: the event bus of the relay's region."""

from __future__ import annotations

from typing import Protocol

from product_service.ports.product_store import OutboxMessage


class PublishFailed(Exception):
    """The bus refused the event; the relay reports the record as failed and it is retried."""


class EventPublisher(Protocol):
    def publish(self, message: OutboxMessage) -> None:
        """Publish one event or raise PublishFailed."""
        ...
