"""The API Gateway adapters on moto: a tenant's key in its tier's plans (and moved, deleted),
the account's key limit as UsageKeyLimitReached, and the flush of every stage's authorizer
cache (moto does not implement the flush itself: its call is checked with botocore's Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tenant_service.adapters.apigateway_usage_plans import (
    ApiGatewayAuthorizerCaches,
    ApiGatewayUsagePlans,
)
from tenant_service.ports.api_gateway import UsageKeyLimitReached


@pytest.fixture
def apigateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        for service in ("order", "product"):
            api_id = client.create_rest_api(name=service)["id"]
            for tier in ("basic", "premium"):
                client.create_usage_plan(
                    name=f"saas-{service}-{tier}",
                    apiStages=[{"apiId": api_id, "stage": "prod"}],
                    tags={"saas:tier": tier},
                )
        yield client


def _plans_of(client: Any, name: str) -> set[str]:
    [key] = [k for k in client.get_api_keys(nameQuery=name)["items"] if k["name"] == name]
    return {plan["name"] for plan in client.get_usage_plans(keyId=key["id"])["items"]}


def test_a_key_joins_every_plan_of_its_tier_once(apigateway: Any) -> None:
    plans = ApiGatewayUsagePlans(apigateway)

    value = plans.put_key("saas-tenant-t1", "basic")
    again = plans.put_key("saas-tenant-t1", "basic")

    assert value == again == "saas-tenant-t1......"  # at least 20 characters
    assert _plans_of(apigateway, "saas-tenant-t1") == {"saas-order-basic", "saas-product-basic"}
    [key] = apigateway.get_api_keys(includeValues=True)["items"]
    assert key["value"] == value
    assert plans.tenant_key_count() == 1


def test_a_key_moves_to_the_other_tiers_plans_and_is_deleted(apigateway: Any) -> None:
    plans = ApiGatewayUsagePlans(apigateway)
    plans.put_key("saas-tenant-t1", "basic")
    plans.put_key("saas-usage-basic-shard-001", "basic")

    plans.put_key("saas-tenant-t1", "premium")

    assert _plans_of(apigateway, "saas-tenant-t1") == {
        "saas-order-premium",
        "saas-product-premium",
    }
    assert plans.tenant_key_count() == 1  # shard keys are not tenants' own
    plans.delete_key("saas-tenant-t1")
    plans.delete_key("saas-tenant-t1")  # nothing left: nothing to do
    assert [k["name"] for k in apigateway.get_api_keys()["items"]] == ["saas-usage-basic-shard-001"]


def test_the_accounts_key_limit_is_usage_key_limit_reached() -> None:
    client = boto3.client(
        "apigateway",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        stub.add_response("get_api_keys", {"items": []})
        stub.add_client_error(
            "create_api_key",
            service_error_code="LimitExceededException",
            http_status_code=429,
            service_message="API key limit exceeded",
        )

        with pytest.raises(UsageKeyLimitReached, match="API key limit exceeded"):
            ApiGatewayUsagePlans(client).put_key("saas-tenant-t1", "basic")


def test_every_stage_of_every_api_is_flushed() -> None:
    client = boto3.client(
        "apigateway",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        stub.add_response("get_rest_apis", {"items": [{"id": "a1"}, {"id": "a2"}]})
        stub.add_response("get_stages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1"})
        stub.add_response(
            "flush_stage_authorizers_cache", {}, {"restApiId": "a1", "stageName": "prod"}
        )
        stub.add_response("get_stages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a2"})
        stub.add_response(
            "flush_stage_authorizers_cache", {}, {"restApiId": "a2", "stageName": "prod"}
        )

        flushed = ApiGatewayAuthorizerCaches(client).flush()

        stub.assert_no_pending_responses()
    assert flushed == 2
