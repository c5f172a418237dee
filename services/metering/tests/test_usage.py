"""Usage records added up per tenant, hour, day and service; once per delivery; priced from
prices.json; read through the API. In memory and on DynamoDB (moto)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from moto import mock_aws

from metering_service.adapters.dynamodb_usage_store import DynamoDBUsageStore
from metering_service.adapters.memory_tenant_directory import MemoryTenantDirectory
from metering_service.adapters.memory_usage_store import MemoryUsageStore
from metering_service.app.usage import LogEvent, Metering
from metering_service.container import Container, price_table
from metering_service.domain.cost import cost_of
from metering_service.domain.errors import BadUsageRecord, InvalidRange
from metering_service.domain.usage import read_usage_record, usage_range
from metering_service.entrypoints import api, usage_records

AT = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def record(service: str, usage: dict[str, dict[str, float]], at: datetime = AT) -> str:
    return json.dumps(
        {
            "_aws": {"Timestamp": int(at.timestamp() * 1000), "CloudWatchMetrics": []},
            "service": service,
            "usage_version": 1,
            "memory_mb": 256,
            "usage": usage,
        }
    )


def events(*messages: str, first_id: int = 0) -> list[LogEvent]:
    return [LogEvent(id=str(first_id + i), message=m) for i, m in enumerate(messages)]


def test_the_cost_of_a_fixed_day_is_the_hand_computed_figure() -> None:
    prices = price_table()
    by_service = {
        "order": {
            "requests": 1_000_000,  # API Gateway 3.50
            "read_capacity_units": 2_000_000,  # 2 x 0.125 = 0.25
            "write_capacity_units": 1_000_000,  # 0.625
            "lambda_invocations": 1_000_000,  # 0.20
            "lambda_gb_seconds": 60_000,  # 60,000 x 0.0000166667 = 1.000002
            "events_published": 500_000,  # 0.50
        },
        "product": {"fauna_compute_ops": 1_000_000, "fauna_read_ops": 2_000_000},  # 2.00 + 1.00
    }
    cost = cost_of(prices, by_service)
    assert cost.by_item["api_gateway"] == pytest.approx(3.50)
    assert cost.by_item["dynamodb"] == pytest.approx(0.875)
    assert cost.by_item["lambda"] == pytest.approx(1.200002)
    assert cost.by_item["eventbridge"] == pytest.approx(0.50)
    assert cost.by_item["fauna"] == pytest.approx(3.00)
    assert cost.by_service == pytest.approx({"order": 6.075002, "product": 3.00})
    assert cost.total == pytest.approx(9.075002)


def test_records_add_up_per_tenant_per_hour_and_day_and_a_redelivery_adds_nothing() -> None:
    store = MemoryUsageStore()
    metering = Metering(store, price_table(), MemoryTenantDirectory())
    batch = events(
        record("order", {"a": {"requests": 1, "write_capacity_units": 2.5}}),
        record("order", {"a": {"requests": 1}, "b": {"requests": 1}}),
        record("product", {"a": {"read_capacity_units": 0.5}}),
        "not json",
        record("order", {"a": {"requests": -1}}),
    )
    report = metering.count(batch)
    assert report.records == 3
    assert report.counted
    assert [why for _, why in report.bad] == [
        "not JSON",
        "requests of a is not a usage figure: -1",
    ]
    assert metering.count(list(reversed(batch))).counted is False  # same ids: counted before

    day = metering.usage("a", date(2026, 12, 4), date(2026, 12, 4)).days[0]
    assert day.measures["requests"] == 2.0
    assert day.measures["write_capacity_units"] == 2.5
    assert store.items[("a", "HOUR#2026-12-04T02")]["product"] == {"read_capacity_units": 0.5}
    other = metering.usage("b", date(2026, 12, 3), date(2026, 12, 4))
    assert [d.measures["requests"] for d in other.days] == [0.0, 1.0]
    assert other.total.measures["requests"] == 1.0


def test_a_record_is_read_strictly() -> None:
    with pytest.raises(BadUsageRecord, match="unknown measure"):
        read_usage_record(record("order", {"a": {"bitcoins": 1}}))
    with pytest.raises(BadUsageRecord, match="not a tenant id"):
        read_usage_record(record("order", {"TENANT#x": {"requests": 1}}))
    with pytest.raises(BadUsageRecord, match="version 1"):
        read_usage_record(json.dumps({"message": "hello"}))


def test_ranges() -> None:
    today = date(2026, 12, 4)
    assert usage_range(None, None, today) == (date(2026, 11, 28), today)
    assert usage_range("2026-12-01", "2026-12-04", today) == (date(2026, 12, 1), today)
    for first, last, why in [
        ("2026-12-05", "2026-12-04", "after"),
        ("2026-01-01", "2026-12-04", "at most 92"),
        ("04/12/2026", None, "YYYY-MM-DD"),
    ]:
        with pytest.raises(InvalidRange, match=why):
            usage_range(first, last, today)


@mock_aws
def test_the_dynamodb_store_adds_once_per_delivery_and_reads_days_back() -> None:
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="usage",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-period",
                "KeySchema": [
                    {"AttributeName": "sk", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    metering = Metering(DynamoDBUsageStore(client, "usage"), price_table(), MemoryTenantDirectory())
    # 60 tenants: 120 items, so two transactions of a marker and at most 99 updates.
    batch = events(*(record("order", {f"t{i}": {"requests": 1}}) for i in range(60)))
    assert metering.count(batch).counted
    assert metering.count(batch).counted is False
    assert metering.count(events(record("order", {"t1": {"requests": 2}}), first_id=100)).counted
    days = metering.usage("t1", date(2026, 12, 3), date(2026, 12, 4)).days
    assert [d.measures["requests"] for d in days] == [0.0, 3.0]
    assert days[1].cost.by_service == {"order": pytest.approx(3 * 3.5e-6)}
    top = metering.top_tenants(date(2026, 12, 4), date(2026, 12, 4), limit=3)
    assert top[0].tenant_id == "t1"
    assert len(top) == 3
    assert top[0].total.measures["requests"] == 3.0
    item = client.get_item(
        TableName="usage", Key={"pk": {"S": "TENANT#t1"}, "sk": {"S": "HOUR#2026-12-04T02"}}
    )["Item"]
    assert float(item["requests"]["N"]) == 3.0
    assert float(item["order:requests"]["N"]) == 3.0


def awslogs(messages: list[str], ids: list[str]) -> dict[str, Any]:
    body = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/saas-order-api",
        "logStream": "s",
        "subscriptionFilters": ["saas-usage-records"],
        "logEvents": [
            {"id": i, "timestamp": 0, "message": m} for i, m in zip(ids, messages, strict=False)
        ],
    }
    return {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}
    }


CONTEXT = SimpleNamespace(
    function_name="f", memory_limit_in_mb=256, invoked_function_arn="arn", aws_request_id="r"
)


def test_the_usage_records_handler_counts_a_delivery_once_and_survives_garbage(
    fresh_container: Container,
) -> None:
    event = awslogs([record("order", {"a": {"requests": 1}}), "{broken"], ["1", "2"])
    assert usage_records.handler(event, CONTEXT) == {"records": 1, "bad": 1, "counted": True}
    assert usage_records.handler(event, CONTEXT)["counted"] is False
    assert usage_records.handler({"awslogs": {"data": "***"}}, CONTEXT) == {"records": 0, "bad": 0}


def api_event(
    path: str, role: str, tenant: str, query: dict[str, str] | None = None
) -> dict[str, Any]:
    resource = path if path.startswith("/usage") else "/tenants/{tenant_id}/usage"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "queryStringParameters": query,
        "pathParameters": None if path.startswith("/usage") else {"tenant_id": path.split("/")[2]},
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "req",
            "resourcePath": resource,
            "httpMethod": "GET",
            "authorizer": {
                "tenant_id": tenant,
                "role": role,
                "user_id": "u",
                "tier": "basic",
                "region_group": "us",
            },
        },
    }


@pytest.fixture
def counted(fresh_container: Container) -> Container:
    fresh_container.tenant_directory = MemoryTenantDirectory({"acme", "globex"})
    fresh_container.metering.count(
        events(record("order", {"acme": {"requests": 4}, "_shared": {"lambda_invocations": 1}}))
    )
    return fresh_container


def _get(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = api.handler(event, CONTEXT)
    return answer["statusCode"], json.loads(answer["body"])


def test_the_api_answers_each_day_with_zeros_and_the_total(counted: Container) -> None:
    query = {"from": "2026-12-03", "to": "2026-12-04"}
    status, body = _get(api_event("/tenants/acme/usage", "TenantAdmin", "acme", query))
    assert status == 200
    assert (body["tenant_id"], body["from"], body["to"], body["currency"]) == (
        "acme",
        "2026-12-03",
        "2026-12-04",
        "USD",
    )
    assert [d["date"] for d in body["days"]] == ["2026-12-03", "2026-12-04"]
    assert [d["requests"] for d in body["days"]] == [0, 4]
    assert body["total"]["requests"] == 4
    assert body["total"]["cost"]["by_item"]["api_gateway"] == pytest.approx(4 * 3.5e-6)
    assert body["days"][1]["cost"]["by_service"] == {"order": pytest.approx(4 * 3.5e-6)}

    status, body = _get(api_event("/usage/shared", "SystemAdmin", "", query))
    assert status == 200
    assert body["tenant_id"] == "_shared"
    assert body["total"]["lambda_invocations"] == 1


@pytest.mark.parametrize(
    ("path", "role", "tenant", "query", "status"),
    [
        ("/tenants/other/usage", "TenantAdmin", "acme", None, 404),
        ("/tenants/nobody/usage", "SystemAdmin", "", None, 404),
        ("/usage", "TenantAdmin", "acme", None, 403),
        ("/tenants/acme/usage", "TenantUser", "acme", None, 403),
        ("/usage/shared", "TenantAdmin", "acme", None, 403),
        ("/tenants/acme/usage", "TenantAdmin", "acme", {"from": "2026-01-01"}, 400),
        ("/tenants/acme/usage", "TenantAdmin", "acme", {"from": "yesterday"}, 400),
    ],
)
def test_the_api_refuses_with_a_message(
    counted: Container, path: str, role: str, tenant: str, query: Any, status: int
) -> None:
    got, body = _get(api_event(path, role, tenant, query))
    assert got == status
    assert body["message"]


def test_a_system_admin_reads_any_tenant(counted: Container) -> None:
    status, body = _get(
        api_event("/tenants/acme/usage", "SystemAdmin", "system", {"to": "2026-12-04"})
    )
    assert status == 200
    assert body["total"]["requests"] == 4


def test_a_system_admin_lists_the_tenants_costliest_first(counted: Container) -> None:
    counted.metering.count(events(record("order", {"globex": {"requests": 9}}), first_id=50))
    status, body = _get(
        api_event("/usage", "SystemAdmin", "", {"from": "2026-12-04", "to": "2026-12-04"})
    )
    assert status == 200
    assert [t["tenant_id"] for t in body["tenants"]] == ["globex", "acme", "_shared"]
    assert body["tenants"][0]["total"]["requests"] == 9
