"""The Fauna backend's scheduled outbox poller: each run relays what is pending through the
container's relay, counts it as a metric, and logs what stays pending for the next run."""

from __future__ import annotations

import json
import logging

import pytest
from dependency_injector import providers

from order_service.entrypoints import outbox_poller
from order_service.ports.outbox import OutboxMessage
from order_service.ports.outbox_source import PendingMessage


def message(event_id):
    return OutboxMessage(
        event_id,
        "saas.order",
        "OrderPlaced",
        {"metadata": {"event_id": event_id, "tenant_id": "t-acme"}, "data": {"order_id": "o-1"}},
    )


class MemoryOutbox:
    def __init__(self, *event_ids):
        self.pending_by_key = {f"tenant_t-acme/{e}": message(e) for e in event_ids}

    def pending(self, limit):
        return [PendingMessage(k, m) for k, m in list(self.pending_by_key.items())[:limit]]

    def done(self, key):
        del self.pending_by_key[key]


class Bus:
    def __init__(self, down=()):
        self.down = set(down)

    def publish(self, messages):
        return [m.event_id for m in messages if m.event_id in self.down]


@pytest.fixture
def records():
    captured: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record):
            captured.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(outbox_poller.logger.registered_formatter)
    logging.getLogger("order").addHandler(handler)
    yield captured
    logging.getLogger("order").removeHandler(handler)


@pytest.fixture
def wired(memory_container):
    outbox, bus = MemoryOutbox("e-1", "e-2"), Bus(down=["e-2"])
    memory_container.outbox_source.override(providers.Object(outbox))
    memory_container.event_publisher.override(providers.Object(bus))
    yield outbox, bus
    memory_container.outbox_source.reset_override()
    memory_container.event_publisher.reset_override()


def test_a_run_relays_what_is_pending_and_reports_what_stays(
    wired, lambda_context, capsys, records
):
    outbox, bus = wired

    result = outbox_poller.handler({"source": "aws.events"}, lambda_context)

    assert result == {"published": 1, "failed": 1}
    assert list(outbox.pending_by_key) == ["tenant_t-acme/e-2"]
    out = capsys.readouterr().out
    [emf] = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert emf["OutboxEventsRelayed"] == [1.0]
    assert emf["OutboxEventsFailed"] == [1.0]
    [warning] = [r for r in records if r["level"] == "WARNING"]
    assert warning["event_id"] == "e-2"

    bus.down.clear()
    assert outbox_poller.handler({"source": "aws.events"}, lambda_context) == {
        "published": 1,
        "failed": 0,
    }
    assert outbox.pending_by_key == {}


def test_the_fauna_backend_wires_the_fauna_outbox_source(memory_container):
    from order_service.container import Settings

    memory_container.settings.override(Settings(BACKEND="fauna", FAUNA_SECRET="fnKey"))

    assert type(memory_container.outbox_relay()._source).__name__ == "FaunaOutboxSource"
