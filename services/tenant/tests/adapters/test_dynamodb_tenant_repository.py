"""The DynamoDB repository on moto: a state change and its outbox events commit together or not
at all, versions guard concurrent writers, markers make reactions idempotent, pages are opaque."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenant_service.adapters.dynamodb_tenant_repository import DynamoDbTenantRepository
from tenant_service.domain.errors import (
    ConcurrentModification,
    InvalidPageToken,
    UserAlreadyExists,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.tenant_repository import OutboxEvent

AT = datetime(2026, 1, 1, tzinfo=UTC)


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


@pytest.fixture
def repo(client: Any) -> DynamoDbTenantRepository:
    return DynamoDbTenantRepository(
        client, tenant_table="saas-tenants", service_table="saas-tenant-service"
    )


def _tenant(tenant_id: str = "t1", **changes: Any) -> Tenant:
    tenant = Tenant(
        id=tenant_id,
        name="Acme",
        tier=Tier.BASIC,
        region_group=RegionGroup.EU,
        status=TenantStatus.PROVISIONING,
        admin_email="boss@acme.test",
        created_at=AT,
        updated_at=AT,
        config={"theme": "dark"},
        version=1,
    )
    return replace(tenant, **changes)


def _event(event_id: str, detail_type: str = "TenantRegistered") -> OutboxEvent:
    return OutboxEvent(
        event_id=event_id, detail_type=detail_type, detail={"metadata": {}, "data": {}}
    )


def _outbox(client: Any) -> list[dict[str, Any]]:
    items = client.scan(TableName="saas-tenant-service")["Items"]
    return [i for i in items if i["pk"]["S"].startswith("OUTBOX#")]


def test_a_new_tenant_and_its_event_are_written_together(repo: Any, client: Any) -> None:
    repo.add(_tenant(), [_event("e1")])

    assert repo.get("t1") == _tenant()
    [item] = _outbox(client)
    assert item["pk"]["S"] == "OUTBOX#e1"
    assert item["detail_type"]["S"] == "TenantRegistered"
    assert item["source"]["S"] == "saas.tenant"
    assert json.loads(item["detail"]["S"]) == {"metadata": {}, "data": {}}
    assert int(item["expires_at"]["N"]) > 0


def test_a_stale_write_changes_nothing_and_publishes_nothing(repo: Any, client: Any) -> None:
    # Given a tenant at version 1
    repo.add(_tenant(), [_event("e1")])
    active = _tenant(status=TenantStatus.ACTIVE, version=2)
    repo.save(active, [_event("e2", "TenantActivated")])

    # When a writer that read version 1 saves its own change
    with pytest.raises(ConcurrentModification):
        repo.save(_tenant(status=TenantStatus.SUSPENDED, version=2), [_event("e3")])

    # Then neither the record nor the outbox took it
    assert repo.get("t1") == active
    assert sorted(i["pk"]["S"] for i in _outbox(client)) == ["OUTBOX#e1", "OUTBOX#e2"]


def test_a_tenant_id_cannot_be_registered_twice(repo: Any) -> None:
    repo.add(_tenant(), [])

    with pytest.raises(ConcurrentModification):
        repo.add(_tenant(name="Impostor"), [_event("e9")])
    assert repo.get("t1").name == "Acme"


def test_a_reaction_is_recorded_with_its_change_and_refused_the_second_time(repo: Any) -> None:
    repo.add(_tenant(), [])
    admin = TenantUser("t1", "boss", "boss@acme.test", UserRole.TENANT_ADMIN, AT)

    repo.save(
        _tenant(status=TenantStatus.ACTIVE, version=2), [], processed_event_id="p1", new_user=admin
    )

    assert repo.was_processed("t1", "p1")
    assert not repo.was_processed("t1", "p2")
    assert repo.list_users("t1", limit=10, next_token=None).items == [admin]
    with pytest.raises(ConcurrentModification):
        repo.save(_tenant(status=TenantStatus.SUSPENDED, version=3), [], processed_event_id="p1")
    assert repo.get("t1").status is TenantStatus.ACTIVE


def test_tenants_come_in_pages(repo: Any) -> None:
    for n in range(5):
        repo.add(_tenant(f"t{n}"), [])

    seen: list[str] = []
    token = None
    for _ in range(5):
        page = repo.list(limit=2, next_token=token)
        seen += [t.id for t in page.items]
        token = page.next_token
        if token is None:
            break

    assert sorted(seen) == [f"t{n}" for n in range(5)]


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "eyJ4IjogMX0", "W10"])
def test_a_token_this_api_did_not_issue_is_refused(repo: Any, token: str) -> None:
    with pytest.raises(InvalidPageToken):
        repo.list(limit=2, next_token=token)
    with pytest.raises(InvalidPageToken):
        repo.list_users("t1", limit=2, next_token=token)


def test_users_are_listed_per_tenant_in_pages(repo: Any, client: Any) -> None:
    for n in range(3):
        repo.add_user(
            TenantUser("t1", f"u{n}", f"u{n}@a.test", UserRole.TENANT_USER, AT),
            [_event(f"e{n}", "TenantUserCreated")],
        )
    repo.add_user(TenantUser("t2", "x", "x@b.test", UserRole.TENANT_USER, AT), [])

    first = repo.list_users("t1", limit=2, next_token=None)
    rest = repo.list_users("t1", limit=2, next_token=first.next_token)

    assert [u.username for u in first.items + rest.items] == ["u0", "u1", "u2"]
    assert len(_outbox(client)) == 3


def test_a_user_cannot_be_recorded_twice(repo: Any) -> None:
    user = TenantUser("t1", "u0", "u0@a.test", UserRole.TENANT_USER, AT)
    repo.add_user(user, [])

    with pytest.raises(UserAlreadyExists):
        repo.add_user(user, [_event("e1")])


def test_the_authorizer_reads_only_the_standing(repo: Any) -> None:
    repo.add(_tenant(status=TenantStatus.ACTIVE), [])

    standing = repo.standing("t1")

    assert standing is not None
    assert (standing.status, standing.tier, standing.region_group) == ("ACTIVE", "basic", "eu")
    assert repo.standing("nobody") is None


def test_a_user_is_found_by_email_within_its_tenant_only(repo: Any) -> None:
    for n in range(3):
        repo.add_user(TenantUser("t1", f"u{n}", f"u{n}@a.test", UserRole.TENANT_USER, AT), [])

    assert repo.user_by_email("t1", "u2@a.test").username == "u2"
    assert repo.user_by_email("t2", "u2@a.test") is None
    assert repo.user_by_email("t1", "nobody@a.test") is None
