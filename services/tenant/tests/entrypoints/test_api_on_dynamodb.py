"""The API handler on its real adapters (DynamoDB tables and Powertools' DynamoDB idempotency
layer on moto): a repeated POST /tenants with the same Idempotency-Key is answered from the
idempotency table, and the record and its outbox event are written once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tenant_testkit import SYSTEM_ADMIN, LambdaContext, call, rest_event

from tenant_service.container import Container, Settings, use_container

BODY = {"name": "Acme", "tier": "basic", "region_group": "eu", "admin_email": "boss@acme.test"}


def _table(ddb: Any, name: str, *keys: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": k, "KeyType": kind}
            for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """(the API module on DynamoDB adapters, a client to look at the tables)"""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _table(ddb, "saas-tenants", "tenant_id")
        _table(ddb, "saas-tenant-service", "pk", "sk")
        _table(ddb, "saas-tenant-idempotency", "id")
        from tenant_service.entrypoints import api as module

        # A container of its own: its clients are made here, with these credentials.
        use_container(Container(Settings(AWS_REGION="us-east-1")))
        yield module, ddb
        use_container(None)


def _count(ddb: Any, table: str) -> int:
    return len(ddb.scan(TableName=table)["Items"])


def test_a_repeated_request_is_answered_from_the_idempotency_table(
    wired: tuple[Any, Any],
) -> None:
    api, ddb = wired
    headers = {"Idempotency-Key": "onboard-acme"}

    first = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY, headers=headers)
    again = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY, headers=headers)

    assert first[0] == 202
    assert again == first
    assert _count(ddb, "saas-tenants") == 1
    assert _count(ddb, "saas-tenant-service") == 1  # one outbox item: TenantRegistered
    assert _count(ddb, "saas-tenant-idempotency") == 1


def test_a_retry_while_the_first_attempt_is_in_progress_is_told_to_wait(
    wired: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that retries while its first attempt still runs (or before a crashed attempt's
    hold on the key has expired) gets a 409 with Retry-After, not API Gateway's 502; once the
    first attempt has answered, the retry gets its answer."""
    api, ddb = wired
    headers = {"Idempotency-Key": "onboard-acme"}
    service = api.container().tenants
    register = service.register
    during: list[Any] = []

    def register_and_retry_meanwhile(*args: Any, **kwargs: Any) -> Any:
        retry = rest_event("POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY, headers=headers)
        during.append(api.handler(retry, LambdaContext()))
        return register(*args, **kwargs)

    monkeypatch.setattr(service, "register", register_and_retry_meanwhile)
    first = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY, headers=headers)
    monkeypatch.setattr(service, "register", register)
    again = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY, headers=headers)

    [meanwhile] = during
    assert meanwhile["statusCode"] == 409
    assert meanwhile["multiValueHeaders"]["Retry-After"] == ["5"]
    assert "still in progress" in json.loads(meanwhile["body"])["message"]
    assert first[0] == 202
    assert again == first
    assert _count(ddb, "saas-tenants") == 1


def test_the_record_reads_back_through_the_api(wired: tuple[Any, Any]) -> None:
    api, _ = wired
    tenant_id = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=BODY)[1]["id"]

    status, tenant = call(api, "GET", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)

    assert status == 200
    assert (tenant["name"], tenant["status"], tenant["region_group"]) == (
        "Acme",
        "PROVISIONING",
        "eu",
    )
