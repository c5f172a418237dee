"""The composition root picks the adapters the settings name, and reads settings once."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from order_service.container import Container, Settings


def built(settings: Settings) -> tuple[str, str]:
    container = Container()
    container.settings.override(settings)
    return (
        type(container.repository()).__name__,
        type(container.catalogue()).__name__,
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"BACKEND": "memory"}, ("MemoryOrderRepository", "MemoryProductCatalogue")),
        ({"BACKEND": "dynamodb"}, ("DynamoDBOrderRepository", "DynamoDBProductCatalogue")),
        (
            {"BACKEND": "fauna", "FAUNA_SECRET": "fnKey"},
            ("FaunaOrderRepository", "FaunaProductCatalogue"),
        ),
    ],
)
def test_the_backend_setting_picks_the_adapters(environ, expected):
    assert built(Settings.from_environ(environ)) == expected


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
    container = Container()
    container.settings.override(
        Settings.from_environ({"BACKEND": "fauna", "FAUNA_SECRET_NAME": "saas/order/fauna"})
    )

    databases = container.fauna_databases()

    from tenant_context import RegionGroup, Role, TenantContext, Tier

    ctx = TenantContext("t-1", Role.SERVICE, "saas.product", Tier.BASIC, RegionGroup.US)
    assert databases.scoped_secret(ctx) == "fnFromSecrets:tenant_t-1:server"


def test_fauna_without_a_key_is_refused_at_wiring():
    container = Container()
    container.settings.override(Settings.from_environ({"BACKEND": "fauna"}))

    with pytest.raises(ValueError, match="FAUNA_SECRET"):
        container.repository()
