"""The outbox relay: publishes outbox messages to the bus, and nothing else is called a relay.

`publish` serves the handler on the outbox table's DynamoDB stream (entrypoints/outbox_relay.py);
`relay` the scheduled handler for a store without a stream (Fauna: entrypoints/outbox_poller.py),
which removes a message only after the bus accepted it, so a failed publish loses nothing: it is
pending again at the next run (at-least-once; consumers are idempotent by event_id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from product_service.ports.event_publisher import EventPublisher, PublishFailed
from product_service.ports.outbox_source import OutboxSource
from tenant_context import OutboxMessage


@dataclass(frozen=True, slots=True)
class RelayReport:
    published: int = 0
    failures: tuple[str, ...] = field(default=())  # "<event id>: <reason>"
    failed: tuple[str, ...] = field(default=())  # the event ids not published


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, source: OutboxSource | None = None) -> None:
        self._publisher = publisher
        self._source = source

    def publish(self, messages: Sequence[OutboxMessage]) -> RelayReport:
        try:
            refused = self._publisher.publish(messages)
            reason = "refused by the bus"
        except PublishFailed as exc:
            refused, reason = [m.event_id for m in messages], str(exc)
        return RelayReport(
            published=len(messages) - len(refused),
            failures=tuple(f"{event_id}: {reason}" for event_id in refused),
            failed=tuple(refused),
        )

    def relay(self, limit: int = 100) -> RelayReport:
        if self._source is None:
            raise RuntimeError("this outbox relay has no outbox to poll (a streamed store)")
        published, failures, failed = 0, list[str](), list[str]()
        for pending in self._source.pending(limit):
            report = self.publish([pending.message])
            if report.failed:
                failures.extend(report.failures)
                failed.extend(report.failed)
                continue
            self._source.done(pending.key)
            published += 1
        return RelayReport(published=published, failures=tuple(failures), failed=tuple(failed))
