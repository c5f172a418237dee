"""Regression: the consumer and the outbox poller sent their metrics to the namespace `SaaS`
(set in code) while every other function used `saas`. Names now come from the template's
Powertools environment only: a fresh process with exactly that environment (a cold start)
emits the consumer's metric under namespace `saas`, service `product`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenant_context import TenantContext

from .. import conftest  # noqa: TID252

SRC = Path(__file__).resolve().parents[2] / "src" / "product_service"

COLD_START = """
import json, sys
from decimal import Decimal
from product_service.container import container
from product_service.entrypoints import consumer
from tenant_context import TenantContext

tenant = TenantContext.from_authorizer(json.loads(sys.argv[1]))
product = container().catalogue.create(
    tenant, name="Mug", sku="M", price=Decimal("1.00"), stock=3
)
event = json.loads(sys.argv[2].replace("__PID__", product.id))


class Context:
    function_name = "product-consumer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:product-consumer"
    aws_request_id = "00000000-0000-0000-0000-000000000001"

    def get_remaining_time_in_millis(self):
        return 30000


print(json.dumps({"response": consumer.handler(event, Context())}))
"""


def test_the_template_sets_the_powertools_names_for_every_function() -> None:
    environment = conftest.template_environment()  # Globals: every function of the template

    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "saas"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "product"


def test_no_handler_names_its_service_or_namespace_in_code() -> None:
    for module in sorted((SRC / "entrypoints").glob("*.py")):
        text = module.read_text(encoding="utf-8")
        assert "namespace=" not in text, module.name
        assert 'service="' not in text, module.name


def test_a_metric_of_the_consumer_lands_in_the_templates_namespace(
    make_tenant: Callable[..., TenantContext],
    make_eventbridge_event: Callable[..., dict[str, Any]],
    make_sqs_event: Callable[..., dict[str, Any]],
) -> None:
    who = make_tenant("acme")
    placed = make_eventbridge_event(
        "OrderPlaced", {"order_id": "o-1", "lines": [{"product_id": "__PID__", "quantity": 1}]}, who
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **conftest.template_environment(),
        "BACKEND": "memory",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    run = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_START,
            json.dumps(who.to_authorizer()),
            json.dumps(make_sqs_event(placed)),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert {"response": {"batchItemFailures": []}} in lines
    (emf,) = [line for line in lines if "_aws" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "saas"
    # The service's own metric, then the usage the record carries (tenant_context.metering).
    assert [m["Name"] for m in directive["Metrics"]] == [
        "StockReservationsReserved",
        "BilledDurationMs",
    ]
    assert emf["usage_version"] == 1
    assert set(emf["usage"]) == {"acme"}
    assert emf["service"] == "product"
    logs = [line for line in lines if line.get("message") == "event handled"]
    assert logs
    assert logs[0]["service"] == "product"
