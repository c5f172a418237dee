"""The polling outbox relay (Fauna backend) on in-memory fakes: a message is marked done only
once the bus took it; one that failed stays pending and goes again at the next run."""

from __future__ import annotations

from collections.abc import Sequence

from order_service.app.outbox_relay import OutboxRelay, RelayReport
from order_service.ports.outbox_source import PendingMessage
from tenant_context import OutboxMessage


def message(event_id: str) -> OutboxMessage:
    return OutboxMessage(
        event_id=event_id,
        source="saas.order",
        detail_type="OrderPlaced",
        detail={"metadata": {"event_id": event_id, "tenant_id": "t-acme"}, "data": {}},
    )


class MemoryOutbox:
    """OutboxSource fake: pending messages by key, in the order they were committed."""

    def __init__(self, *event_ids: str) -> None:
        self.pending_by_key = {f"tenant_t-acme/{e}": message(e) for e in event_ids}
        self.limits: list[int] = []

    def pending(self, limit: int) -> list[PendingMessage]:
        self.limits.append(limit)
        return [PendingMessage(k, m) for k, m in list(self.pending_by_key.items())[:limit]]

    def done(self, key: str) -> None:
        del self.pending_by_key[key]


class Bus:
    """EventPublisher fake: refuses the event ids in `down`, keeps what it accepted."""

    def __init__(self, down: Sequence[str] = ()) -> None:
        self.down = set(down)
        self.calls: list[list[str]] = []
        self.published: list[OutboxMessage] = []

    def publish(self, messages: Sequence[OutboxMessage]) -> list[str]:
        self.calls.append([m.event_id for m in messages])
        failed = [m.event_id for m in messages if m.event_id in self.down]
        self.published.extend(m for m in messages if m.event_id not in self.down)
        return failed


def test_pending_messages_are_published_then_marked_done():
    outbox, bus = MemoryOutbox("e-1", "e-2"), Bus()

    report = OutboxRelay(bus, outbox).relay()

    assert report == RelayReport(published=2)
    assert [m.event_id for m in bus.published] == ["e-1", "e-2"]
    assert bus.published[0] == message("e-1")  # source, detail type and envelope unchanged
    assert outbox.pending_by_key == {}


def test_a_failed_publish_stays_pending_and_is_retried_by_the_next_run():
    outbox, bus = MemoryOutbox("e-1", "e-2", "e-3"), Bus(down=["e-2"])
    relay = OutboxRelay(bus, outbox)

    first = relay.relay()

    assert first == RelayReport(published=2, failed=("e-2",))
    assert list(outbox.pending_by_key) == ["tenant_t-acme/e-2"]

    bus.down.clear()  # the bus is back
    second = relay.relay()

    assert second == RelayReport(published=1)
    assert bus.calls == [["e-1", "e-2", "e-3"], ["e-2"]]
    assert [m.event_id for m in bus.published] == ["e-1", "e-3", "e-2"]
    assert outbox.pending_by_key == {}


def test_when_the_bus_is_down_nothing_is_marked_done():
    outbox, bus = MemoryOutbox("e-1", "e-2"), Bus(down=["e-1", "e-2"])

    report = OutboxRelay(bus, outbox).relay()

    assert report == RelayReport(published=0, failed=("e-1", "e-2"))
    assert list(outbox.pending_by_key) == ["tenant_t-acme/e-1", "tenant_t-acme/e-2"]


def test_an_empty_outbox_publishes_nothing_and_asks_the_limit():
    outbox, bus = MemoryOutbox(), Bus()

    assert OutboxRelay(bus, outbox).relay(limit=25) == RelayReport()
    assert bus.calls == []
    assert outbox.limits == [25]


def test_publish_returns_what_failed_and_asks_nothing_for_no_messages():
    bus = Bus(down=["e-2"])
    relay = OutboxRelay(bus)

    assert relay.publish([message("e-1"), message("e-2")]) == {"e-2"}
    assert relay.publish([]) == set()
    assert bus.calls == [["e-1", "e-2"]]
