"""The composition root: each backend's adapters, built once per Container, swappable by tests,
and one process-wide Container."""

from __future__ import annotations

import pytest

from tenant_context import OutboxMessage
from tenant_service.adapters.dynamodb_tenant_directory import DynamoDBTenantDirectory
from tenant_service.adapters.dynamodb_tenant_repository import DynamoDBTenantRepository
from tenant_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from tenant_service.adapters.memory_event_publisher import MemoryEventPublisher
from tenant_service.adapters.memory_route_permissions import MemoryRoutePermissions
from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory
from tenant_service.adapters.ssm_route_permissions import SsmRoutePermissions
from tenant_service.container import Container, Settings, container, use_container


def test_the_dynamodb_backend_builds_its_adapters_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    c = Container(Settings(AWS_REGION="eu-west-1"))

    assert isinstance(c.repository, DynamoDBTenantRepository)
    assert isinstance(c.unit_of_work, DynamoDBUnitOfWorkFactory)
    assert isinstance(c.tenant_directory, DynamoDBTenantDirectory)
    assert isinstance(c.route_permissions, SsmRoutePermissions)
    assert c.tenants is c.tenants
    # One client per AWS service for the whole container
    assert c.aws.client("dynamodb") is c.aws.client("dynamodb")
    assert c.aws.client("dynamodb").meta.region_name == "eu-west-1"


def test_the_memory_backend_shares_one_store_and_knows_its_own_routes() -> None:
    c = Container(Settings(BACKEND="memory"))

    assert isinstance(c.unit_of_work, MemoryUnitOfWorkFactory)
    assert c.unit_of_work.store is c.repository is c.tenant_directory
    assert isinstance(c.route_permissions, MemoryRoutePermissions)
    [own] = c.route_permissions.load()
    assert own.service == "tenant"
    assert own.allows("SystemAdmin", "POST", "/tenants")


def test_a_dependency_assigned_before_first_use_is_the_one_used() -> None:
    c = Container(Settings(BACKEND="memory"))
    publisher = MemoryEventPublisher()
    c.publisher = publisher

    message = OutboxMessage(event_id="e1", source="saas.tenant", detail_type="X", detail={})

    assert c.outbox_relay.publish([message]) == []
    assert publisher.published == [message]


def test_the_process_wide_container_is_built_once_and_can_be_replaced() -> None:
    replacement = Container(Settings(BACKEND="memory"))
    use_container(replacement)
    try:
        assert container() is replacement
        assert container() is container()
    finally:
        use_container(None)
    assert container() is not replacement
    use_container(None)


ROLE = "arn:aws:iam::123456789012:role/saas-tenant-tenant-access-us-east-1"


class _Asked(Exception):
    """A scoped client was asked for (the tenant id is the message)."""


class _ScopedClients:
    def dynamodb(self, tenant_id: str) -> object:
        raise _Asked(tenant_id)


def test_the_tenant_serving_function_reaches_tenant_items_only_with_scoped_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tenant_context import Cause, RegionGroup, Role, TenantContext, Tier
    from tenant_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients
    from tenant_service.domain.events import TenantUserDisabled

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert isinstance(
        Container(Settings(TENANT_ACCESS_ROLE_ARN=ROLE)).tenant_clients, StsTenantScopedClients
    )
    c = Container(Settings(TENANT_ACCESS_ROLE_ARN=ROLE))
    c.tenant_clients = _ScopedClients()
    ctx = TenantContext(
        tenant_id="t-a",
        role=Role.SERVICE,
        user_id="saas.tenant",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
    )

    with pytest.raises(_Asked, match="t-a"):
        c.repository.get("t-a")
    with pytest.raises(_Asked, match="t-a"):
        c.repository.list_users("t-a", limit=1, next_token=None)
    with c.unit_of_work(ctx, Cause()) as uow:
        uow.emit(TenantUserDisabled(tenant_id="t-a", username="u-1"))
        with pytest.raises(_Asked, match="t-a"):
            uow.commit()


def test_the_control_plane_uses_its_own_role_and_has_no_scoped_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(ValueError, match="TENANT_ACCESS_ROLE_ARN"):
        _ = Container(Settings()).tenant_clients
    with mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="saas-tenants",
            KeySchema=[{"AttributeName": "tenant_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "tenant_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        c = Container(Settings(AWS_REGION="us-east-1"))
        c.tenant_clients = _ScopedClients()

        assert c.repository.get("t-a") is None  # read with its own client, nothing scoped asked
