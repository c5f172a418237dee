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
    logging.getLogger(api.logger.name).addHandler(handler)
    yield captured
    logging.getLogger(api.logger.name).removeHandler(handler)


def test_placing_an_order_counts_orders_placed_for_the_tenant(
    memory_container, lambda_context, acme, capsys, records
):
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
    from order_service.domain.order import OrderLine
    from tenant_context import Cause

    order = memory_container.orders.place(acme, [OrderLine(product_id="p-1", quantity=1)], Cause())
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


def test_the_names_come_from_the_functions_environment_not_from_code():
    import inspect
    import os

    from order_service.entrypoints import observability

    assert observability.logger.service == os.environ["POWERTOOLS_SERVICE_NAME"] == "order"
    assert observability.metrics.namespace == os.environ["POWERTOOLS_METRICS_NAMESPACE"] == "saas"
    source = inspect.getsource(observability)
    assert "service=" not in source
    assert "namespace=" not in source


def test_every_handler_uses_the_one_logger_metrics_and_tracer():
    from order_service.entrypoints import observability, outbox_poller, outbox_relay

    for module in (api, consumer, outbox_poller, outbox_relay):
        assert module.logger is observability.logger
        assert module.tracer is observability.tracer
    for module in (api, consumer, outbox_poller):
        assert module.metrics is observability.metrics


def test_the_saga_time_is_measured_once_when_the_order_is_decided_and_usage_rides_along(
    memory_container, lambda_context, acme, capsys
):
    from order_service.domain.order import OrderLine
    from tenant_context import Cause

    order = memory_container.orders.place(acme, [OrderLine(product_id="p-1", quantity=1)], Cause())
    reserved = eventbridge_event(
        "saas.product",
        "StockReserved",
        {"order_id": order.id, "lines": []},
        ctx=acme,
        event_id="e-saga",
    )
    capsys.readouterr()

    consumer.handler(sqs_event(reserved, reserved), lambda_context)
    consumer.handler(sqs_event(reserved), lambda_context)  # redelivered: decided before

    first, again = emitted(capsys.readouterr().out)
    [seconds] = first["SagaSeconds"]
    assert 0 <= seconds < 60
    assert "SagaSeconds" not in again
    assert first["usage_version"] == 1
    assert set(first["usage"]) == {"t-acme"}
    assert first["usage"]["t-acme"]["lambda_invocations"] == 1.0
