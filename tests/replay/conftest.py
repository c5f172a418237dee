"""What the replay tests share: the event log table from its own template, a saga's events as
producers write them, and delivery through a bus rule and queue to the recorder as in AWS."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

# The recorder's environment as its template gives it (services/event-log/template.yaml): its
# Metrics read the namespace when the module is imported.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "event-log")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")

from saas_devtools.event_log import recorder
from saas_devtools.replay.into_handler import LambdaContext
from tenant_context import new_metadata, write_envelope

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "services/event-log/template.yaml"
REGION = "us-east-1"
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !ImportValue ...) kept as text."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: f"{suffix}")


def event_log_table_properties() -> dict[str, Any]:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    return dict(template["Resources"]["EventLogTable"]["Properties"])


def create_event_log_table(dynamodb: Any) -> str:
    """The table exactly as the template declares its keys."""
    props = event_log_table_properties()
    dynamodb.create_table(
        TableName=props["TableName"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
    )
    return str(props["TableName"])


def saga_event(
    source: str,
    detail_type: str,
    data: dict[str, Any],
    *,
    tenant_id: str,
    at: datetime,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event whose detail is the envelope a producer writes."""
    metadata = new_metadata(
        tenant_id=tenant_id,
        producer=source,
        correlation_id=correlation_id,
        causation_id=causation_id,
        occurred_at=at,
    )
    detail = write_envelope(metadata, data)
    detail["metadata"] |= {"tier": "basic", "region_group": "us"}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": source,
        "detail-type": detail_type,
        "account": "000000000000",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def a_tenants_saga(tenant_id: str, start: datetime = START) -> list[dict[str, Any]]:
    """Two orders placed, stock reserved for both, the first cancelled and released."""
    first, second = f"o-{uuid.uuid4().hex[:6]}", f"o-{uuid.uuid4().hex[:6]}"
    lines1 = [{"product_id": "p-1", "quantity": 2}, {"product_id": "p-2", "quantity": 1}]
    lines2 = [{"product_id": "p-1", "quantity": 3}]
    placed1 = saga_event(
        "saas.shop",
        "OrderPlaced",
        {"order_id": first, "lines": lines1},
        tenant_id=tenant_id,
        at=start,
    )
    cid1 = placed1["detail"]["metadata"]["correlation_id"]
    placed2 = saga_event(
        "saas.shop",
        "OrderPlaced",
        {"order_id": second, "lines": lines2},
        tenant_id=tenant_id,
        at=start + timedelta(minutes=1),
    )
    cid2 = placed2["detail"]["metadata"]["correlation_id"]
    reserved1 = saga_event(
        "saas.stock",
        "StockReserved",
        {"order_id": first, "lines": lines1},
        tenant_id=tenant_id,
        at=start + timedelta(seconds=2),
        correlation_id=cid1,
        causation_id=placed1["detail"]["metadata"]["event_id"],
    )
    reserved2 = saga_event(
        "saas.stock",
        "StockReserved",
        {"order_id": second, "lines": lines2},
        tenant_id=tenant_id,
        at=start + timedelta(minutes=1, seconds=2),
        correlation_id=cid2,
        causation_id=placed2["detail"]["metadata"]["event_id"],
    )
    cancelled1 = saga_event(
        "saas.shop",
        "OrderCancelled",
        {"order_id": first, "lines": lines1},
        tenant_id=tenant_id,
        at=start + timedelta(minutes=5),
        correlation_id=cid1,
    )
    return [placed1, reserved1, placed2, reserved2, cancelled1]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in process, with the recorder's settings pointing at it."""
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    recorder.event_log.cache_clear()
    with mock_aws():
        yield
    recorder.event_log.cache_clear()


Record = Callable[[list[dict[str, Any]]], dict[str, Any]]


@pytest.fixture
def record(aws: None) -> Record:
    """Deliver events as AWS does (bus -> rule -> queue) and run the recorder on the batch;
    returns the recorder's response."""
    create_event_log_table(boto3.client("dynamodb", region_name=REGION))
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="saas")
    queue_url = sqs.create_queue(QueueName="saas-event-log-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="saas-event-log",
        EventBusName="saas",
        EventPattern=json.dumps({"source": [{"prefix": "saas."}]}),
    )
    events.put_targets(
        Rule="saas-event-log",
        EventBusName="saas",
        Targets=[{"Id": "event-log-queue", "Arn": queue_arn}],
    )

    def deliver(batch: list[dict[str, Any]]) -> dict[str, Any]:
        for event in batch:
            detail = event["detail"]
            events.put_events(
                Entries=[
                    {
                        "EventBusName": "saas",
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": detail if isinstance(detail, str) else json.dumps(detail),
                        "Time": datetime.fromisoformat(event["time"].replace("Z", "+00:00")),
                    }
                ]
            )
        messages: list[dict[str, Any]] = []
        while True:
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            if not received.get("Messages"):
                break
            messages += received["Messages"]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(received["Messages"])
                ],
            )
        lambda_event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }
        return recorder.handler(lambda_event, LambdaContext("saas-event-log-recorder"))

    return deliver


WriteService = Callable[[str, dict[str, str]], str]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Path, WriteService]]:
    """(root, write_service): write_service(name, {module path: source}) lays out
    services/<name>/src/<unique package>/ and returns the package name."""
    root = tmp_path / "ws"
    packages: list[str] = []

    def write_service(name: str, modules: dict[str, str]) -> str:
        package = (
            packages[-1]
            if packages and packages[-1].startswith(f"{name}_")
            else (f"{name}_{uuid.uuid4().hex[:8]}")
        )
        src = root / "services" / name / "src" / package
        for folder in ("", "domain", "entrypoints", "adapters"):
            (src / folder).mkdir(parents=True, exist_ok=True)
            (src / folder / "__init__.py").touch()
        for relative, source in modules.items():
            (src / relative).write_text(textwrap.dedent(source), encoding="utf-8")
        if package not in packages:
            packages.append(package)
        return package

    yield root, write_service
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


@pytest.fixture
def saga() -> Callable[..., list[dict[str, Any]]]:
    """a_tenants_saga(tenant_id, start=START): the saga's EventBridge events, in time order."""
    return a_tenants_saga


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    return saga_event
