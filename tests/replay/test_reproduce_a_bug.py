"""Reproduce a tenant's bug the way an engineer would, and replay tolerance.

Given a tenant's saga recorded in the event log, when its events are replayed in process into a
broken consumer, the failure shows (the command fails and names the event); when the consumer is
fixed and the events replayed again, the consumer ends in the right state. Replaying the whole
history twice leaves the same state, and events are replayed in envelope occurred_at order,
whatever order they were stored or listed in.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from saas_devtools.replay import cli

READERS = """
    from typing import ClassVar
    from pydantic import BaseModel

    class Line(BaseModel):
        product_id: str
        quantity: int

    class OrderPlacedReader(BaseModel):
        event_version: ClassVar[int] = 1
        order_id: str
        lines: list[Line]

    class OrderCancelledReader(BaseModel):
        event_version: ClassVar[int] = 1
        order_id: str

    CONSUMED = {
        ("saas.shop", "OrderPlaced"): OrderPlacedReader,
        ("saas.shop", "OrderCancelled"): OrderCancelledReader,
    }
"""

# The in-memory adapter (BACKEND=memory): reservations per tenant, processed event ids.
MEMORY_STORE = """
    RESERVED: dict[str, dict[str, int]] = {}
    ORDERS: dict[tuple[str, str], list[tuple[str, int]]] = {}
    PROCESSED: set[str] = set()
"""

CONSUMER = """
    import json
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor, EventType, process_partial_response,
    )
    from tenant_context import read_envelope

    from {package}.adapters import memory_reservations as store
    from {package}.entrypoints.event_readers import CONSUMED, OrderPlacedReader

    logger = Logger(service="warehouse")


    class UnknownEventVersion(Exception):
        pass


    def record_handler(record):
        event = json.loads(record.body)
        reader = CONSUMED[(event["source"], event["detail-type"])]
        envelope = read_envelope(event["detail"])
        if envelope.metadata.event_version != reader.event_version:
            raise UnknownEventVersion(f"event_version {{envelope.metadata.event_version}}")
        if envelope.metadata.event_id in store.PROCESSED:
            return  # a duplicate (a retry, a replay): already applied
        tenant = envelope.metadata.tenant_id
        data = reader.model_validate(envelope.data)
        reserved = store.RESERVED.setdefault(tenant, {{}})
        if isinstance(data, OrderPlacedReader):
            lines = [(line.product_id, line.quantity) for line in data.lines]
            store.ORDERS[(tenant, data.order_id)] = lines
            for product_id, quantity in lines:
                reserved[product_id] = reserved.get(product_id, 0) + quantity
        else:
            lines = store.ORDERS.pop((tenant, data.order_id))  # KeyError: cancel before place
            for product_id, quantity in lines:
{release}
                if reserved[product_id] < 0:
                    raise ValueError(f"{{product_id}} reserved below zero")
        store.PROCESSED.add(envelope.metadata.event_id)


    def handler(event, context):
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
"""

FIXED = "                reserved[product_id] -= quantity"
BROKEN = "                reserved[product_id] -= quantity * 2  # the bug: released twice"


def _write_warehouse(write_service: Any, release: str) -> str:
    package = write_service(
        "warehouse",
        {
            "entrypoints/event_readers.py": READERS,
            "adapters/memory_reservations.py": MEMORY_STORE,
        },
    )
    return write_service(
        "warehouse",
        {
            "entrypoints/consumer.py": CONSUMER.format(package=package, release=release),
        },
    )


def _new_process(package: str) -> None:
    """A fresh `saas-replay` run: nothing of the consumer stays imported, its memory is empty."""
    for name in list(sys.modules):
        if name.split(".")[0] == package:
            del sys.modules[name]


def _reserved(package: str, tenant_id: str) -> dict[str, int]:
    return dict(sys.modules[f"{package}.adapters.memory_reservations"].RESERVED[tenant_id])


def _replay(root: Path, *extra: str) -> list[str]:
    return [
        "--tenant",
        "t-1",
        "--into",
        "warehouse:consumer",
        "--memory",
        "--workspace",
        str(root),
        *extra,
    ]


def test_a_recorded_saga_reproduces_the_bug_and_proves_the_fix(
    record, saga, workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root, write_service = workspace
    record(saga("t-1") + saga("t-2"))  # the tenant's saga, recorded as it happened
    package = _write_warehouse(write_service, BROKEN)

    status = cli.main(_replay(root, "--aws", "--region", "us-east-1"))

    out, err = capsys.readouterr()
    assert status == 1
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1
    assert "OrderCancelled" in failed[0]
    assert "2 ok, 1 failed; 2 event(s) it does not consume skipped" in err

    _new_process(package)
    _write_warehouse(write_service, FIXED)

    status = cli.main(_replay(root, "--aws", "--region", "us-east-1"))

    out, err = capsys.readouterr()
    assert status == 0, out
    assert "3 ok, 0 failed" in err
    assert _reserved(package, "t-1") == {"p-1": 3, "p-2": 0}


def test_replaying_the_whole_history_twice_leaves_the_same_state(
    record, saga, workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root, write_service = workspace
    record(saga("t-1"))
    package = _write_warehouse(write_service, FIXED)

    assert cli.main(_replay(root, "--aws", "--region", "us-east-1")) == 0
    once = _reserved(package, "t-1")
    assert cli.main(_replay(root, "--aws", "--region", "us-east-1")) == 0
    twice = _reserved(package, "t-1")

    assert once == twice == {"p-1": 3, "p-2": 0}
    assert "3 ok, 0 failed" in capsys.readouterr().err


def test_events_are_replayed_by_occurred_at_not_by_the_order_they_are_listed_in(
    saga, workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, write_service = workspace
    events = saga("t-1")
    shuffled = list(reversed(events))  # the cancel first: out of order it could not apply
    random.Random(7).shuffle(shuffled[1:])
    listed = tmp_path / "events.jsonl"
    listed.write_text("".join(json.dumps(e) + "\n" for e in shuffled), encoding="utf-8")
    package = _write_warehouse(write_service, FIXED)

    status = cli.main(_replay(root, "--events", str(listed)))

    out = capsys.readouterr().out
    assert status == 0, out
    assert [line.split()[2] for line in out.splitlines()] == [
        "OrderPlaced",
        "OrderPlaced",
        "OrderCancelled",
    ]
    assert _reserved(package, "t-1") == {"p-1": 3, "p-2": 0}
