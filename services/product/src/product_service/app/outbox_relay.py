"""Publish what the outbox holds, for stores polled rather than streamed (Fauna).

A message is removed only after the bus accepted it, so a failed publish loses nothing: it is
pending again at the next run (at-least-once; consumers are idempotent by event_id)."""

from __future__ import annotations

from dataclasses import dataclass, field

from product_service.ports.event_publisher import EventPublisher, PublishFailed
from product_service.ports.outbox_source import OutboxSource


@dataclass(frozen=True, slots=True)
class RelayReport:
    published: int = 0
    failures: tuple[str, ...] = field(default=())


class OutboxRelay:
    def __init__(self, source: OutboxSource, publisher: EventPublisher) -> None:
        self._source = source
        self._publisher = publisher

    def relay(self, limit: int = 100) -> RelayReport:
        published, failures = 0, []
        for pending in self._source.pending(limit):
            try:
                self._publisher.publish(pending.message)
            except PublishFailed as exc:
                failures.append(f"{pending.message.event_id}: {exc}")
                continue
            self._source.done(pending.key)
            published += 1
        return RelayReport(published=published, failures=tuple(failures))
