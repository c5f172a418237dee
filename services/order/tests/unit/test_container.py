"""The composition root picks the adapters the settings name, builds each once, and reads
settings once."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from order_service.container import Container, Settings, container, use_container


def built(settings: Settings) -> tuple[str, str]:
    c = Container(settings)
    return type(c.order_repository).__name__, type(c.unit_of_work).__name__


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"BACKEND": "memory"}, ("MemoryOrderRepository", "MemoryUnitOfWorkFactory")),
        (
            {"BACKEND": "dynamodb", "TENANT_ACCESS_ROLE_ARN": "arn:aws:iam::1:role/r"},
            ("DynamoDBOrderRepository", "DynamoDBUnitOfWorkFactory"),
        ),
        (
            {"BACKEND": "fauna", "FAUNA_SECRET": "fnKey"},
            ("FaunaOrderRepository", "FaunaUnitOfWorkFactory"),
        ),
    ],
)
def test_the_backend_setting_picks_the_adapters(environ, expected):
    assert built(Settings.from_environ(environ)) == expected


def test_dynamodb_without_the_tenant_access_role_is_refused():
    # the function's own role reaches no tenant item: there is no unscoped way in
    with pytest.raises(ValueError, match="TENANT_ACCESS_ROLE_ARN"):
        built(Settings.from_environ({"BACKEND": "dynamodb"}))


def test_settings_read_the_region_map_as_json_and_refuse_an_unknown_backend():
    settings = Settings.from_environ({"REGION_MAP": json.dumps({"us": "us-west-2"})})

    assert settings.region_map == {"us": "us-west-2"}
    with pytest.raises(ValueError, match="BACKEND"):
        Settings.from_environ({"BACKEND": "sqlite"})


@mock_aws
def test_the_fauna_key_can_come_from_secrets_manager():
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="saas/order/fauna", SecretString=json.dumps({"secret": "fnFromSecrets"})
    )
    c = Container(
        Settings.from_environ({"BACKEND": "fauna", "FAUNA_SECRET_NAME": "saas/order/fauna"})
    )

    databases = c.fauna_databases

    from tenant_context import RegionGroup, Role, TenantContext, Tier

    ctx = TenantContext("t-1", Role.SERVICE, "saas.product", Tier.BASIC, RegionGroup.US)
    assert databases.scoped_secret(ctx) == "fnFromSecrets:tenant_t-1:server"


def test_fauna_without_a_key_is_refused_at_wiring():
    c = Container(Settings.from_environ({"BACKEND": "fauna"}))

    with pytest.raises(ValueError, match="FAUNA_SECRET"):
        _ = c.order_repository


def test_each_dependency_is_built_once_and_shared():
    c = Container(Settings(BACKEND="memory"))

    assert c.orders is c.orders
    assert c.order_repository is c.orders._repository
    assert c.reactions._repository is c.order_repository
    assert c.unit_of_work is c.reactions._uow


def test_a_test_swaps_a_dependency_by_assigning_it_before_first_use():
    c = Container(Settings(BACKEND="memory"))
    published = []

    class Bus:
        def publish(self, messages):
            published.extend(messages)
            return []

    c.event_publisher = Bus()

    assert c.outbox_relay.publish(["m"]) == set()
    assert published == ["m"]


def test_the_process_container_is_built_once_and_replaceable_in_tests(monkeypatch):
    monkeypatch.setenv("BACKEND", "memory")
    use_container(None)
    try:
        first = container()
        assert container() is first
        mine = Container(Settings(BACKEND="memory"))
        use_container(mine)
        assert container() is mine
    finally:
        use_container(None)


@mock_aws
def test_aws_clients_are_built_once_per_service_and_region():
    c = Container(Settings(BACKEND="dynamodb"))

    us = c.aws.client("dynamodb", "us-east-1")

    assert c.aws.client("dynamodb", "us-east-1") is us
    assert c.aws.client("dynamodb", "eu-west-1") is not us
    assert c.aws.client("events", "us-east-1") is not us
    assert us.meta.region_name == "us-east-1"
