"""The per-invocation meter: what a handler's record carries, per tenant, with no I/O."""

from __future__ import annotations

import contextlib
import json
from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.stub import Stubber

from tenant_context.metering import (
    SHARED,
    add_fauna_stats,
    add_usage,
    meter_session,
    metered,
    route_group,
    serve_tenant,
)


class RecordingMetrics:
    def __init__(self) -> None:
        self.metrics: dict[str, list[float]] = {}
        self.dimensions: dict[str, str] = {}
        self.metadata: dict[str, Any] = {}

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.metrics.setdefault(name, []).append(value)

    def add_dimension(self, name: str, value: str) -> None:
        self.dimensions[name] = value

    def add_metadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value


CONTEXT = SimpleNamespace(memory_limit_in_mb=512)


def api_event(tenant: str = "acme", resource: str = "/orders/{order_id}") -> dict[str, Any]:
    return {
        "resource": resource,
        "requestContext": {"authorizer": {"tenant_id": tenant, "tier": "premium"}},
    }


def test_an_api_request_is_one_request_of_its_tenant_with_its_route_and_tier() -> None:
    metrics = RecordingMetrics()

    @metered(metrics, api=True)
    def handler(event: Any, context: Any) -> dict[str, Any]:
        add_usage("read_capacity_units", 0.5)  # before the handler names the tenant
        return {"statusCode": 404}

    handler(api_event(), CONTEXT)

    usage = metrics.metadata["usage"]
    assert list(usage) == ["acme"]
    assert usage["acme"]["requests"] == 1.0
    assert usage["acme"]["read_capacity_units"] == 0.5
    assert usage["acme"]["errors_4xx"] == 1.0
    assert "errors_5xx" not in usage["acme"]
    assert usage["acme"]["lambda_billed_ms"] >= 1.0
    assert usage["acme"]["lambda_gb_seconds"] == usage["acme"]["lambda_billed_ms"] / 1000 / 2
    assert metrics.dimensions == {"tier": "premium", "route": "orders"}
    assert metrics.metrics["Requests"] == [1.0]
    assert metrics.metrics["Errors4xx"] == [1.0]
    assert metrics.metrics["Errors5xx"] == [0.0]
    assert metrics.metadata["usage_version"] == 1
    assert metrics.metadata["memory_mb"] == 512


def test_a_handler_that_raises_counts_a_5xx_and_still_records_its_usage() -> None:
    metrics = RecordingMetrics()

    @metered(metrics, api=True)
    def handler(event: Any, context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    with contextlib.suppress(RuntimeError):
        handler(api_event(), CONTEXT)
    assert metrics.metadata["usage"]["acme"]["errors_5xx"] == 1.0


def test_without_a_tenant_the_usage_is_shared_and_a_batch_splits_its_duration() -> None:
    alone, batch = RecordingMetrics(), RecordingMetrics()

    @metered(alone)
    def relay(event: Any, context: Any) -> None:
        return None

    @metered(batch)
    def consumer(event: Any, context: Any) -> None:
        for tenant in ("a", "b"):
            serve_tenant(tenant)
            add_fauna_stats(SimpleNamespace(compute_ops=3, read_ops=2, write_ops=1))

    relay({}, CONTEXT)
    consumer({}, CONTEXT)

    assert list(alone.metadata["usage"]) == [SHARED]
    usage = batch.metadata["usage"]
    assert set(usage) == {"a", "b"}
    assert usage["a"]["lambda_invocations"] == 0.5
    assert usage["a"]["lambda_billed_ms"] == usage["b"]["lambda_billed_ms"]
    assert usage["b"]["fauna_compute_ops"] == 3.0
    assert usage["b"]["fauna_write_ops"] == 1.0
    assert batch.metrics["FaunaComputeOps"] == [6.0]


def _stubbed(service: str) -> tuple[Any, Stubber]:
    session = meter_session(botocore.session.get_session())
    client = session.create_client(
        service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    return client, Stubber(client)


PUT = [{"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}}}}]


def test_dynamodb_calls_ask_for_their_consumed_capacity_and_add_it_to_the_tenant() -> None:
    client, stub = _stubbed("dynamodb")
    stub.add_response(
        "get_item",
        {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}},
        {"TableName": "t", "Key": {"pk": {"S": "x"}}, "ReturnConsumedCapacity": "TOTAL"},
    )
    stub.add_response(
        "transact_write_items",
        {"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 4.0}]},
        {"TransactItems": PUT, "ReturnConsumedCapacity": "TOTAL"},
    )
    metrics = RecordingMetrics()

    @metered(metrics)
    def handler(event: Any, context: Any) -> None:
        serve_tenant("acme")
        client.get_item(TableName="t", Key={"pk": {"S": "x"}})
        client.transact_write_items(TransactItems=PUT)

    with stub:
        handler({}, CONTEXT)
    stub.assert_no_pending_responses()
    acme = metrics.metadata["usage"]["acme"]
    assert acme["read_capacity_units"] == 0.5
    assert acme["write_capacity_units"] == 4.0
    assert metrics.metrics["WriteCapacityUnits"] == [4.0]


def test_put_events_counts_each_entry_put_for_the_tenant_of_its_envelope() -> None:
    client, stub = _stubbed("events")
    entries = [
        {"Source": "s", "DetailType": "d", "Detail": json.dumps({"metadata": {"tenant_id": t}})}
        for t in ("a", "b", "a")
    ]
    stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"EventId": "1"}, {"ErrorCode": "x"}, {"EventId": "3"}],
        },
        {"Entries": entries},
    )
    metrics = RecordingMetrics()

    @metered(metrics)
    def relay(event: Any, context: Any) -> None:
        client.put_events(Entries=entries)

    with stub:
        relay({}, CONTEXT)
    usage = metrics.metadata["usage"]
    assert usage["a"] == {"events_published": 2.0}
    assert "b" not in usage
    assert usage[SHARED]["lambda_invocations"] == 1.0


def test_route_group_is_the_first_segment_of_the_resource() -> None:
    assert route_group("/tenants/{tenant_id}/usage") == "tenants"
    assert route_group("/") == "root"
