"""Fixtures shared by the product tests: tenants, Lambda event shapes, moto tables, the
container with an adapter swapped in."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


def template_environment() -> dict[str, str]:
    """The plain-text variables of the template's Globals function environment (those whose
    value is written in the template, not a !Ref): what every function of the service gets."""
    text = TEMPLATE.read_text(encoding="utf-8")
    block = text.split("Globals:", 1)[1].split("\nResources:", 1)[0]
    variables = block.split("Variables:", 1)[1]
    found = re.findall(r"^ {8}([A-Z_]+): ([^!#\s][^#\n]*?)\s*$", variables, flags=re.M)
    return {name: value.strip("\"'") for name, value in found}


# Before any Powertools import: the template's Powertools settings (service name, metrics
# namespace); no X-Ray daemon here; metrics go to stdout as EMF.
for _name, _value in template_environment().items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "testing"  # moto only: never real credentials
os.environ.pop("AWS_ENDPOINT_URL", None)

from product_service.container import Container, Settings, use_container  # noqa: E402
from tenant_context import (  # noqa: E402
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    new_metadata,
    write_envelope,
)

REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}
POOLED_TABLE = "saas-products"


def tenant(
    tenant_id: str | None = None,
    *,
    role: Role = Role.TENANT_ADMIN,
    tier: Tier = Tier.BASIC,
    region_group: RegionGroup = RegionGroup.US,
) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id or f"t-{uuid.uuid4().hex[:8]}",
        role=role,
        user_id=f"user-{uuid.uuid4().hex[:6]}",
        tier=tier,
        region_group=region_group,
    )


@pytest.fixture
def make_tenant() -> Callable[..., TenantContext]:
    return tenant


@dataclass
class FakeLambdaContext:
    function_name: str = "product-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:product-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext(aws_request_id=str(uuid.uuid4()))


def api_event(
    method: str,
    path: str,
    who: TenantContext | None,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the tenant authorizer leaves it."""
    parts = path.strip("/").split("/")
    resource = "/products/{product_id}" if len(parts) == 2 else "/products"
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.example.test"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"product_id": parts[1]} if len(parts) == 2 else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": request_id,
            "accountId": "123456789012",
            "apiId": "abc123",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": (who.to_authorizer() | {"principalId": who.user_id}) if who else None,
        },
        "body": text,
        "isBase64Encoded": False,
    }


@pytest.fixture
def make_api_event() -> Callable[..., dict[str, Any]]:
    return api_event


def eventbridge_event(
    detail_type: str,
    data: dict[str, Any],
    who: TenantContext,
    *,
    source: str = "saas.order",
    event_version: int = 1,
    event_id: str | None = None,
) -> dict[str, Any]:
    metadata = new_metadata(
        tenant_id=who.tenant_id,
        producer=source,
        event_version=event_version,
        context=who,
        event_id=event_id,
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "time": metadata.occurred_at.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": write_envelope(metadata, data),
    }


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping delivers it (one record per body)."""
    records = []
    for body in bodies:
        message_id = str(uuid.uuid4())
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1700000000001",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:saas-product-events",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


@pytest.fixture
def make_eventbridge_event() -> Callable[..., dict[str, Any]]:
    return eventbridge_event


@pytest.fixture
def make_sqs_event() -> Callable[..., dict[str, Any]]:
    return sqs_event


def create_products_table(client: Any, name: str = POOLED_TABLE) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with the pooled table in every region of the map."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        for region in sorted(set(REGION_MAP.values())):
            create_products_table(boto3.client("dynamodb", region_name=region))
        yield


TENANT_ACCESS_ROLE = "arn:aws:iam::123456789012:role/saas-product-tenant-access-us-east-1"


@pytest.fixture
def dynamodb_store(aws: None) -> Any:
    from product_service.adapters.aws_clients import AwsClients
    from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
    from product_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

    # As the functions reach the tables: through clients scoped to one tenant each.
    clients = StsTenantScopedClients(
        AwsClients(REGION_MAP),
        role_arn=TENANT_ACCESS_ROLE,
        sts_region="us-east-1",
        region_map=REGION_MAP,
    )
    return DynamoDBProductStore(clients, pooled_table=POOLED_TABLE)


@pytest.fixture
def memory_store() -> Any:
    from product_service.adapters.memory_product_store import MemoryProductStore

    return MemoryProductStore()


def uow_for(store: Any) -> Any:
    """The unit of work factory that writes where `store` reads."""
    from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
    from product_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
    from product_service.adapters.fauna_product_store import FaunaProductStore
    from product_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory
    from product_service.adapters.memory_product_store import MemoryProductStore
    from product_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory

    if isinstance(store, MemoryProductStore):
        return MemoryUnitOfWorkFactory(store)
    if isinstance(store, DynamoDBProductStore):
        return DynamoDBUnitOfWorkFactory(store)
    if isinstance(store, FaunaProductStore):
        return FaunaUnitOfWorkFactory(store)
    raise TypeError(f"no unit of work for {type(store).__name__}")


def catalogue(store: Any) -> Any:
    from product_service.app.catalogue import Catalogue

    return Catalogue(store, uow_for(store))


def stock_keeper(store: Any, **options: Any) -> Any:
    from product_service.app.stock import StockKeeper

    return StockKeeper(store, uow_for(store), **options)


@pytest.fixture
def wired() -> Iterator[Callable[..., Container]]:
    """A process-wide container on the memory backend whose store is the test's own (its unit
    of work and polled outbox follow it); dropped after the test."""
    c = Container(Settings(BACKEND="memory", REGION_MAP=REGION_MAP))
    use_container(c)

    def use(store: Any, uow: Any = None) -> Container:
        c.store = store
        c.unit_of_work = uow or uow_for(store)
        c.outbox_source = store
        return c

    yield use
    use_container(None)


def stream_records(region: str, table: str = POOLED_TABLE) -> list[dict[str, Any]]:
    """Every record of the table's stream so far, in Lambda's DynamoDB-stream event shape."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=region)
    # moto in-process answers DescribeStream "Not yet implemented" unless the streams
    # endpoint is given explicitly (boto3 1.44, moto 5.2.5; server mode is not affected).
    streams = boto3.client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com",
    )
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            change = dict(record["dynamodb"])
            created = change.get("ApproximateCreationDateTime")
            if created is not None and not isinstance(created, int | float):
                change["ApproximateCreationDateTime"] = int(created.timestamp())
            records.append(
                {
                    "eventID": record["eventID"],
                    "eventName": record["eventName"],
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": region,
                    "dynamodb": change,
                    "eventSourceARN": arn,
                }
            )
    return records
