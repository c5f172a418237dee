"""The composition root picks the backend from configuration alone."""

from __future__ import annotations

import boto3
import pytest

from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.adapters.fauna_product_store import FaunaProductStore
from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.container import Container, Settings


def _container(**environ: str) -> Container:
    container = Container()
    container.settings.override(Settings.from_environ(environ))
    return container


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({"BACKEND": "memory"}, MemoryProductStore),
        ({"BACKEND": "dynamodb"}, DynamoDBProductStore),
        ({"BACKEND": "fauna", "FAUNA_SECRET": "fnKey"}, FaunaProductStore),
    ],
)
def test_the_backend_setting_picks_the_store(environ: dict[str, str], kind: type) -> None:
    container = _container(**environ)

    assert isinstance(container.store(), kind)
    assert container.store() is container.store()  # built once per process


def test_the_region_map_comes_from_json() -> None:
    settings = Settings.from_environ({"REGION_MAP": '{"us": "us-west-2", "eu": "eu-central-1"}'})

    assert settings.region_map == {"us": "us-west-2", "eu": "eu-central-1"}


def test_an_unknown_backend_is_refused_at_cold_start() -> None:
    with pytest.raises(ValueError, match="BACKEND"):
        Settings.from_environ({"BACKEND": "mongodb"})


def test_the_fauna_key_is_read_from_secrets_manager(aws: None) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="saas/product/fauna", SecretString="fnParent"
    )
    container = _container(BACKEND="fauna", FAUNA_SECRET_NAME="saas/product/fauna")

    store = container.store()

    assert store.scoped_secret(_tenant()).startswith("fnParent:")


def test_fauna_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="FAUNA_SECRET"):
        _container(BACKEND="fauna").store()


def _tenant():  # type: ignore[no-untyped-def]
    from tenant_context import RegionGroup, Role, TenantContext, Tier

    return TenantContext("t-1", Role.SERVICE, "saas.order", Tier.BASIC, RegionGroup.US)
