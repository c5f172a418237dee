"""The Fauna backend's scheduled outbox poller: each run relays what is pending through the
container's relay, counts it as a metric, and logs what stays pending for the next run."""

from __future__ import annotations

import json
import logging

import pytest

from order_service.entrypoints import outbox_poller
from order_service.ports.outbox_source import PendingMessage
from tenant_context import OutboxMessage


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
    logging.getLogger(outbox_poller.logger.name).addHandler(handler)
    yield captured
    logging.getLogger(outbox_poller.logger.name).removeHandler(handler)


@pytest.fixture
def wired(memory_container):
    outbox, bus = MemoryOutbox("e-1", "e-2"), Bus(down=["e-2"])
    memory_container.outbox_source = outbox
    memory_container.event_publisher = bus
    return outbox, bus


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


def test_the_fauna_backend_wires_the_fauna_outbox_source():
    from order_service.container import Container, Settings

    fauna = Container(Settings(BACKEND="fauna", FAUNA_SECRET="fnKey"))
    dynamodb = Container(Settings(BACKEND="dynamodb"))

    assert type(fauna.outbox_relay._source).__name__ == "FaunaOutboxSource"
    assert dynamodb.outbox_source is None  # its stream drives the outbox relay's handler
