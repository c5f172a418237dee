"""Publish what the outbox holds, for stores polled rather than streamed (Fauna).

A message is marked done only after the bus accepted it, so a failed publish loses nothing: it
is pending again at the next run (at-least-once; consumers are idempotent by event_id)."""

from __future__ import annotations

from dataclasses import dataclass, field

from order_service.ports.event_publisher import EventPublisher
from order_service.ports.outbox_source import OutboxSource


@dataclass(frozen=True, slots=True)
class RelayReport:
    published: int = 0
    # The event ids that did not reach the bus: still pending, retried by the next run.
    failed: tuple[str, ...] = field(default=())


class OutboxRelay:
    def __init__(self, source: OutboxSource, publisher: EventPublisher) -> None:
        self._source = source
        self._publisher = publisher

    def relay(self, limit: int = 100) -> RelayReport:
        pending = list(self._source.pending(limit))
        if not pending:
            return RelayReport()
        failed = set(self._publisher.publish([p.message for p in pending]))
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
