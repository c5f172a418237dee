"""The composition root picks the backend from configuration alone, and builds each dependency
once per process."""

from __future__ import annotations

import boto3
import pytest

from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from product_service.adapters.fauna_product_store import FaunaProductStore
from product_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory
from product_service.adapters.memory_event_publisher import MemoryEventPublisher
from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory
from product_service.container import Container, Settings, container, use_container
from tenant_context import RegionGroup, Role, TenantContext, Tier


def _container(**environ: str) -> Container:
    return Container(Settings.from_environ(environ))


@pytest.mark.parametrize(
    ("environ", "kind", "uow"),
    [
        ({"BACKEND": "memory"}, MemoryProductStore, MemoryUnitOfWorkFactory),
        (
            {"BACKEND": "dynamodb", "TENANT_ACCESS_ROLE_ARN": "arn:aws:iam::1:role/r"},
            DynamoDBProductStore,
            DynamoDBUnitOfWorkFactory,
        ),
        ({"BACKEND": "fauna", "FAUNA_SECRET": "fnKey"}, FaunaProductStore, FaunaUnitOfWorkFactory),
    ],
)
def test_the_backend_setting_picks_the_store(
    environ: dict[str, str], kind: type, uow: type
) -> None:
    container = _container(**environ)

    assert isinstance(container.store, kind)
    assert container.store is container.store  # built once per process
    assert isinstance(container.unit_of_work, uow)
    assert container.catalogue is container.catalogue


def test_dynamodb_without_the_tenant_access_role_is_refused() -> None:
    # the function's own role reaches no tenant item: there is no unscoped way in
    with pytest.raises(ValueError, match="TENANT_ACCESS_ROLE_ARN"):
        _ = _container(BACKEND="dynamodb").store


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

    store = container.store

    assert isinstance(store, FaunaProductStore)
    assert store.scoped_secret(_tenant()).startswith("fnParent:")


def test_fauna_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="FAUNA_SECRET"):
        _container(BACKEND="fauna").store  # noqa: B018  (building it is the test)


def test_a_dependency_assigned_before_first_use_is_the_one_used() -> None:
    container = _container(BACKEND="memory")
    publisher = MemoryEventPublisher()
    container.event_publisher = publisher

    assert container.outbox_relay.publish([]).published == 0
    assert container.event_publisher is publisher


def test_the_dynamodb_backend_has_no_polled_outbox() -> None:
    with pytest.raises(ValueError, match="stream"):
        _container(BACKEND="dynamodb").outbox_source  # noqa: B018


def test_use_container_installs_and_drops_the_process_wide_container() -> None:
    mine = _container(BACKEND="memory")

    use_container(mine)
    try:
        assert container() is mine
    finally:
        use_container(None)

    assert container() is not mine
    use_container(None)


def test_aws_clients_are_built_once_per_service_and_region(aws: None) -> None:
    container = _container(BACKEND="dynamodb")

    first = container.aws.client("dynamodb", "eu-west-1")

    assert container.aws.client("dynamodb", "eu-west-1") is first
    assert container.aws.client("dynamodb", "us-east-1") is not first
    assert first.meta.region_name == "eu-west-1"


def _tenant() -> TenantContext:
    return TenantContext("t-1", Role.SERVICE, "saas.order", Tier.BASIC, RegionGroup.US)
