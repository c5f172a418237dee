"""Handlers emit the service's metrics (EMF on stdout, as Powertools writes them in Lambda) with
the tenant as metadata, and log with tenant_id and correlation_id."""

from __future__ import annotations

import json
import logging

import pytest
from order_testkit import api_event, eventbridge_event, sqs_event

from order_service.entrypoints import api, consumer


def emitted(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


@pytest.fixture
def records():
    captured: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record):
            captured.append(json.loads(self.format(record)))

    handler = Keep()
    # Powertools keeps appended keys in its formatter: format records the way Lambda sees them.
    handler.setFormatter(api.logger.registered_formatter)
    logging.getLogger("order").addHandler(handler)
    yield captured
    logging.getLogger("order").removeHandler(handler)


def test_placing_an_order_counts_orders_placed_for_the_tenant(
    memory_container, lambda_context, acme, capsys, records
):
    memory_container.reactions().product_created(acme, "p-1")
    event = api_event(
        "POST", "/orders", ctx=acme, body={"lines": [{"product_id": "p-1", "quantity": 1}]}
    )

    api.handler(event, lambda_context)

    [metrics] = emitted(capsys.readouterr().out)
    assert metrics["OrdersPlaced"] == [1.0]
    assert metrics["tenant_id"] == "t-acme"
    placed = [r for r in records if r["message"] == "order placed"]
    assert [(r["tenant_id"], r["correlation_id"]) for r in placed] == [("t-acme", "corr-test")]


def test_a_confirmation_counts_orders_confirmed_once(
    memory_container, lambda_context, acme, capsys
):
    from order_service.app.outbox import Cause
    from order_service.domain.order import OrderLine

    memory_container.reactions().product_created(acme, "p-1")
    order = memory_container.orders().place(
        acme, [OrderLine(product_id="p-1", quantity=1)], Cause()
    )
    reserved = eventbridge_event(
        "saas.product",
        "StockReserved",
        {"order_id": order.id, "lines": []},
        ctx=acme,
        event_id="e-1",
    )
    capsys.readouterr()

    consumer.handler(sqs_event(reserved, reserved), lambda_context)

    [metrics] = emitted(capsys.readouterr().out)
    assert metrics["OrdersConfirmed"] == [1.0]
