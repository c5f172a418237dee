"""Publishing an outbox event to the bus."""

from __future__ import annotations

from typing import Protocol


class PublishFailed(Exception):
    """The bus refused the event; the relay reports it as a batch item failure (retried)."""


class EventPublisher(Protocol):
    def publish(self, *, source: str, detail_type: str, detail_json: str) -> None: ...
