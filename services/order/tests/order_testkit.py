"""Test helpers of the order service: tenant contexts, and DynamoDB tables as the template
defines them (for tests against moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tenant_context import RegionGroup, Role, TenantContext, Tier

POOLED_TABLE = "saas-orders"
REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}


TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


TENANT_ACCESS_ROLE = "arn:aws:iam::123456789012:role/saas-order-tenant-access-us-east-1"


def scoped_tables(pooled_table: str = POOLED_TABLE, aws: Any = None) -> Any:
    """The tables as the functions reach them: through clients scoped to one tenant each."""
    from order_service.adapters.aws_clients import AwsClients
    from order_service.adapters.dynamodb_tables import RegionalTables
    from order_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

    clients = StsTenantScopedClients(
        aws or AwsClients(),
        role_arn=TENANT_ACCESS_ROLE,
        sts_region="us-east-1",
        region_map=REGION_MAP,
    )
    return RegionalTables(pooled_table=pooled_table, clients=clients)


def create_orders_table(client: Any, name: str = POOLED_TABLE) -> None:
    """The orders table with the template's keys and indexes (read from it: they cannot drift)."""
    from cfnlint.decode import cfn_yaml

    props = dict(cfn_yaml.load(str(TEMPLATE)))["Resources"]["OrdersTable"]["Properties"]
    client.create_table(
        TableName=name,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def all_items(client: Any, table: str) -> list[dict[str, Any]]:
    return client.scan(TableName=table)["Items"]


def tenant(
    tenant_id: str = "t-acme",
    *,
    tier: Tier = Tier.BASIC,
    region_group: RegionGroup = RegionGroup.US,
    role: Role = Role.TENANT_USER,
) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id, role=role, user_id="u-1", tier=tier, region_group=region_group
    )


def api_event(
    method: str,
    path: str,
    *,
    ctx: TenantContext | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the Lambda authorizer leaves it."""
    import json

    path_parameters = None
    resource = path
    parts = path.strip("/").split("/")
    if len(parts) >= 2:
        path_parameters = {"order_id": parts[1]}
        resource = "/orders/{order_id}" + ("/cancel" if len(parts) == 3 else "")
    authorizer = {**ctx.to_authorizer(), "principalId": ctx.user_id} if ctx else None
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "X-Correlation-Id": "corr-test"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "api",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": raw_body if raw_body is not None else (None if body is None else json.dumps(body)),
        "isBase64Encoded": False,
    }


def sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch as Lambda delivers it, each body an EventBridge event."""
    import json

    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"rh-{i}",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:saas-order-events",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def eventbridge_event(
    source: str,
    detail_type: str,
    data: dict[str, Any],
    *,
    ctx: TenantContext,
    event_id: str | None = None,
    event_version: int = 1,
) -> dict[str, Any]:
    """An EventBridge event as it reaches SQS (no `account`, as moto delivers it)."""
    from tenant_context import new_metadata, write_envelope

    metadata = new_metadata(
        tenant_id=ctx.tenant_id,
        producer=source,
        event_version=event_version,
        context=ctx,
        event_id=event_id,
    )
    return {
        "version": "0",
        "id": "eb-1",
        "detail-type": detail_type,
        "source": source,
        "time": "2026-11-23T20:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": write_envelope(metadata, data),
    }


class LambdaContextStub:
    function_name = "order"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:order"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
