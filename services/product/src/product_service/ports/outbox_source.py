"""Where the outbox relay finds messages not yet published (stores without a change
stream: Fauna). The DynamoDB outbox needs none of this: its table's stream drives the relay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tenant_context import OutboxMessage


@dataclass(frozen=True, slots=True)
class PendingMessage:
    key: str  # where the message is kept, opaque to the relay
    message: OutboxMessage


class OutboxSource(Protocol):
    def pending(self, limit: int) -> Iterable[PendingMessage]:
        """Unpublished messages, oldest first within each tenant, at most `limit` per tenant."""
        ...

    def done(self, key: str) -> None:
        """The message was published: it is not pending any more."""
        ...
