"""The tenant-serving function reaches a tenant's items only through the client scoped to that
tenant (README, "Tenant isolation"): every read and the unit of work's transaction ask
TenantScopedClients for the tenant they touch, and the function's own client (whose role has no
DynamoDB permission) is never used for them. The keys lead with the tenant id, as the access
role's dynamodb:LeadingKeys condition needs. (The refusal itself, AWS's AccessDenied through the
local platform, is tests/e2e/test_isolation.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenant_context import Cause, Role, TenantContext
from tenant_context import RegionGroup as ContextRegionGroup
from tenant_context import Tier as ContextTier
from tenant_service.adapters.dynamodb_tenant_repository import DynamoDBTenantRepository
from tenant_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from tenant_service.adapters.sts_tenant_scoped_clients import _refused_outside_the_tenant
from tenant_service.domain.errors import OutsideTheTenant
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole

AT = datetime(2026, 1, 1, tzinfo=UTC)
TABLES: dict[str, Any] = {"tenant_table": "saas-tenants", "service_table": "saas-tenant-service"}


class OwnRoleClient:
    """The function's own client: its role may touch no tenant item, so no use is allowed."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the function's own client was used for {name}")


class RecordingScopedClients:
    """TenantScopedClients handing out one moto client, recording which tenant was asked for."""

    def __init__(self, client: Any) -> None:
        self.asked: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._client = client

    def dynamodb(self, tenant_id: str) -> Any:
        self.asked.append(tenant_id)
        return _Recording(self._client, self.calls)


class _Recording:
    def __init__(self, client: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._client = client
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def recorded(**request: Any) -> Any:
            self._calls.append((name, request))
            return operation(**request)

        return recorded


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="saas-tenants",
            KeySchema=[{"AttributeName": "tenant_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "tenant_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.create_table(
            TableName="saas-tenant-service",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield ddb


def _ctx(tenant_id: str) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id,
        role=Role.SERVICE,
        user_id="saas.tenant",
        tier=ContextTier.BASIC,
        region_group=ContextRegionGroup.US,
    )


def _onboarded(client: Any, tenant_id: str) -> None:
    """What the control plane wrote (with its own role): the tenant's record."""
    tenant = Tenant(
        id=tenant_id,
        name="Acme",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
        status=TenantStatus.ACTIVE,
        admin_email="boss@acme.test",
        created_at=AT,
        updated_at=AT,
        config={},
        version=1,
    )
    with DynamoDBUnitOfWorkFactory(client, **TABLES)(_ctx(tenant_id), Cause()) as uow:
        uow.tenants.add(tenant)
        uow.commit()


def _keys(call: tuple[str, dict[str, Any]]) -> list[str]:
    """The partition key values a request names (what LeadingKeys is checked against)."""
    name, request = call
    if name == "get_item":
        return [next(iter(request["Key"].values()))["S"]]
    if name == "query":
        return [request["ExpressionAttributeValues"][":pk"]["S"]]
    if name == "transact_write_items":
        return [next(iter(t.values()))["Item"]["pk"]["S"] for t in request["TransactItems"]]
    raise AssertionError(f"unexpected call {name}")


def test_every_item_of_a_tenant_is_reached_with_that_tenants_scoped_client(client: Any) -> None:
    _onboarded(client, "t-a")
    scoped = RecordingScopedClients(client)
    repository = DynamoDBTenantRepository(OwnRoleClient(), **TABLES, scoped=scoped)
    uow = DynamoDBUnitOfWorkFactory(OwnRoleClient(), **TABLES, scoped=scoped)
    user = TenantUser(
        tenant_id="t-a", username="u-1", email="u@a.test", role=UserRole.TENANT_USER, created_at=AT
    )

    tenant = repository.get("t-a")
    with uow(_ctx("t-a"), Cause()) as work:
        work.users.add(user)
        work.commit()
    with uow(_ctx("t-a"), Cause()) as work:
        work.users.save(user.with_enabled(False))
        work.commit()
    with uow(_ctx("t-a"), Cause()) as work:
        work.users.remove(user)
        work.commit()

    assert tenant is not None
    assert tenant.id == "t-a"
    assert repository.user("t-a", "u-1") is None  # removed: a tombstone the reads skip
    assert repository.user_by_email("t-a", "u@a.test") is None
    assert repository.list_users("t-a", limit=10, next_token=None).items == []
    assert repository.was_processed("t-a", "e-1") is False
    assert set(scoped.asked) == {"t-a"}
    # The directory's key is the tenant id; every service table key leads with TENANT#<id>.
    keys = [key for call in scoped.calls for key in _keys(call)]
    assert keys[0] == "t-a"
    assert set(keys[1:]) == {"TENANT#t-a"}


def test_listing_every_tenant_is_the_control_planes_alone(client: Any) -> None:
    """The directory's Scan names no tenant: no scoped session could make it (nor may one: the
    access role never allows Scan); it is the own client's, which the scoped function's role
    forbids."""
    scoped = RecordingScopedClients(client)
    repository = DynamoDBTenantRepository(OwnRoleClient(), **TABLES, scoped=scoped)

    with pytest.raises(AssertionError, match="own client was used for scan"):
        repository.list(limit=10, next_token=None)
    assert scoped.asked == []


def test_aws_refusing_the_scoped_session_a_key_is_outside_the_tenant() -> None:
    refusal = (
        "User: arn:aws:sts::123456789012:assumed-role/saas-tenant-tenant-access-us-east-1/"
        "tenant-t-a is not authorized to perform: dynamodb:GetItem"
    )
    denied = {"Error": {"Code": "AccessDeniedException", "Message": refusal}}

    with pytest.raises(OutsideTheTenant) as raised:
        _refused_outside_the_tenant(SimpleNamespace(status_code=400), denied)
    assert raised.value.refusal == refusal
    # Anything else is left to botocore (its own ClientError), not called a tenant breach.
    throttled = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
    _refused_outside_the_tenant(SimpleNamespace(status_code=400), throttled)
    _refused_outside_the_tenant(SimpleNamespace(status_code=200), {})
