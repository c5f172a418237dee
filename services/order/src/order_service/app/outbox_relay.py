"""The outbox relay: what the outbox holds goes to the bus, and what fails is tried again.

Two ways in: the DynamoDB outbox table's stream hands each committed message to `publish`
(entrypoints/outbox_relay.py; a failure is a batch item failure, retried by Lambda), and a
store without a stream (Fauna) is polled by `relay` (entrypoints/outbox_poller.py): a message
is marked done only after the bus accepted it, so a failed publish loses nothing (at-least-once;
consumers are idempotent by event_id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from order_service.ports.event_publisher import EventPublisher
from order_service.ports.outbox_source import OutboxSource
from tenant_context import OutboxMessage


@dataclass(frozen=True, slots=True)
class RelayReport:
    published: int = 0
    # The event ids that did not reach the bus: still pending, retried by the next run.
    failed: tuple[str, ...] = field(default=())


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, source: OutboxSource | None = None) -> None:
        self._publisher = publisher
        self._source = source

    def publish(self, messages: Sequence[OutboxMessage]) -> set[str]:
        """The event ids that did not reach the bus."""
        return set(self._publisher.publish(messages)) if messages else set()

    def relay(self, limit: int = 100) -> RelayReport:
        """One polling run over the outbox source: publish what is pending, mark it done."""
        if self._source is None:
            raise RuntimeError("this backend's outbox has a stream: it is relayed by publish()")
        pending = list(self._source.pending(limit))
        if not pending:
            return RelayReport()
        failed = self.publish([p.message for p in pending])
        published = 0
        for item in pending:
            if item.message.event_id in failed:
                continue
            self._source.done(item.key)
            published += 1
        return RelayReport(
            published=published,
            failed=tuple(p.message.event_id for p in pending if p.message.event_id in failed),
        )
