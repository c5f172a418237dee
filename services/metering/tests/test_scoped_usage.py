"""The tenant-serving function (TENANT_ACCESS_ROLE_ARN set) reads a tenant's usage and record
only with that tenant's scoped client; a key refused to it (OutsideTheTenant) is a 404 that
names the tenant asked for, nothing of another's. End to end, with AWS's refusal:
tests/e2e/test_isolation.py."""

from __future__ import annotations

import json
import logging
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from metering_service.adapters.dynamodb_tenant_directory import DynamoDBTenantDirectory
from metering_service.adapters.dynamodb_usage_store import DynamoDBUsageStore
from metering_service.adapters.sts_tenant_scoped_clients import (
    StsTenantScopedClients,
    _refused_outside_the_tenant,
)
from metering_service.container import Container, Settings
from metering_service.domain.errors import OutsideTheTenant
from metering_service.domain.usage import DayUsage
from metering_service.entrypoints import api

ROLE = "arn:aws:iam::123456789012:role/saas-metering-tenant-access-us-east-1"
CONTEXT = SimpleNamespace(
    function_name="f", memory_limit_in_mb=256, invoked_function_arn="arn", aws_request_id="r"
)


class Recorded:
    """A DynamoDB client that records what it is asked and answers one day of usage."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("query", request))
        return {"Items": [{"sk": {"S": "DAY#2026-12-04"}, "order:requests": {"N": "2"}}]}

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("get_item", request))
        return {"Item": {"tenant_id": request["Key"]["tenant_id"]}}


class Scoped:
    def __init__(self) -> None:
        self.clients: dict[str, Recorded] = {}

    def dynamodb(self, tenant_id: str) -> Recorded:
        return self.clients.setdefault(tenant_id, Recorded(f"scoped-{tenant_id}"))


def test_a_tenants_days_and_record_are_read_with_that_tenants_scoped_client() -> None:
    own, scoped = Recorded("own"), Scoped()
    store = DynamoDBUsageStore(own, "usage", scoped=scoped)
    directory = DynamoDBTenantDirectory(own, "tenants", scoped=scoped)

    days = store.days("acme", date(2026, 12, 4), date(2026, 12, 4))
    assert directory.exists("acme")

    assert days == [DayUsage(date(2026, 12, 4), {"order": {"requests": 2.0}})]
    assert own.calls == []
    ((kind, query), (_, get)) = scoped.clients["acme"].calls
    assert kind == "query"
    assert query["ExpressionAttributeValues"][":pk"] == {"S": "TENANT#acme"}
    assert get["Key"] == {"tenant_id": {"S": "acme"}}
    assert list(scoped.clients) == ["acme"]


def test_without_scoped_clients_the_functions_own_client_reads() -> None:
    own = Recorded("own")
    DynamoDBUsageStore(own, "usage").days("_shared", date(2026, 12, 4), date(2026, 12, 4))
    assert [kind for kind, _ in own.calls] == ["query"]


def test_only_the_tenant_serving_function_scopes_its_adapters() -> None:
    environment = {"BACKEND": "dynamodb", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    control_plane = Container(Settings.from_environ(environment))
    tenant_serving = Container(
        Settings.from_environ({**environment, "TENANT_ACCESS_ROLE_ARN": ROLE})
    )
    assert control_plane.usage_store._scoped is None  # type: ignore[attr-defined]
    assert isinstance(tenant_serving.tenant_clients, StsTenantScopedClients)
    assert tenant_serving.usage_store._scoped is tenant_serving.tenant_clients  # type: ignore[attr-defined]
    assert tenant_serving.tenant_directory._scoped is tenant_serving.tenant_clients  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="TENANT_ACCESS_ROLE_ARN"):
        _ = control_plane.tenant_clients


def test_aws_refusing_the_scoped_session_raises_outside_the_tenant() -> None:
    refusal = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
    with pytest.raises(OutsideTheTenant, match="not authorized"):
        _refused_outside_the_tenant(SimpleNamespace(status_code=400), refusal)
    _refused_outside_the_tenant(SimpleNamespace(status_code=400), {"Error": {"Code": "Throttled"}})
    _refused_outside_the_tenant(SimpleNamespace(status_code=200), {})


class RefusedStore:
    def days(self, tenant_id: str, first: date, last: date) -> list[DayUsage]:
        raise OutsideTheTenant("User: arn:...:assumed-role/x/tenant-acme is not authorized")


def test_a_refused_key_is_a_404_naming_the_tenant_asked_for(
    fresh_container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    fresh_container.usage_store = RefusedStore()  # type: ignore[assignment]
    event = {
        "resource": "/tenants/{tenant_id}/usage",
        "path": "/tenants/acme/usage",
        "httpMethod": "GET",
        "headers": {},
        "queryStringParameters": None,
        "pathParameters": {"tenant_id": "acme"},
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "req",
            "resourcePath": "/tenants/{tenant_id}/usage",
            "httpMethod": "GET",
            "authorizer": {
                "tenant_id": "acme",
                "role": "TenantAdmin",
                "user_id": "u",
                "tier": "basic",
                "region_group": "us",
            },
        },
    }
    with caplog.at_level(logging.ERROR):
        answer = api.handler(event, CONTEXT)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["message"] == "no tenant acme"
    assert "not authorized" not in answer["body"]
    assert any("refused a key" in r.getMessage() for r in caplog.records)
