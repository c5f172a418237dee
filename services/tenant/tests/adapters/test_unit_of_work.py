"""The repository and unit-of-work ports, one contract over memory and DynamoDB (moto): a state
change, its outbox messages and a reaction's marker commit together or not at all, versions
guard concurrent writers, markers make reactions idempotent, pages are opaque."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import BaseModel

from tenant_context import Cause, Role, TenantContext
from tenant_context import RegionGroup as ContextRegionGroup
from tenant_context import Tier as ContextTier
from tenant_service.adapters.dynamodb_tenant_directory import (
    DynamoDBTenantDirectory,
    DynamoDBUserDirectory,
)
from tenant_service.adapters.dynamodb_tenant_repository import DynamoDBTenantRepository
from tenant_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory
from tenant_service.domain.errors import (
    ConcurrentModification,
    InvalidPageToken,
    UserAlreadyExists,
    UserNotFound,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.tenant_repository import TenantRepository
from tenant_service.ports.unit_of_work import EventAlreadyProcessed, UnitOfWorkFactory

AT = datetime(2026, 1, 1, tzinfo=UTC)


class Happened(BaseModel):
    tenant_id: str


class TenantRegistered(Happened):
    pass


class TenantActivated(Happened):
    pass


class TenantSuspended(Happened):
    pass


class TenantUserCreated(Happened):
    pass


class TenantUserDisabled(Happened):
    username: str


class TenantUserRemoved(Happened):
    username: str


def _ctx(tenant_id: str) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id,
        role=Role.SERVICE,
        user_id="saas.tenant",
        tier=ContextTier.BASIC,
        region_group=ContextRegionGroup.EU,
    )


@dataclass
class Store:
    """One backend: its repository, its unit of work and what its outbox holds."""

    repo: TenantRepository
    uow: UnitOfWorkFactory
    outbox: Callable[[], list[tuple[str, str]]]  # (tenant_id, detail_type) of each message

    def write(
        self,
        *,
        add: Tenant | None = None,
        save: Tenant | None = None,
        user: TenantUser | None = None,
        events: tuple[BaseModel, ...] = (),
        event_id: str | None = None,
        tenant_id: str = "t1",
    ) -> None:
        with self.uow(_ctx(tenant_id), Cause(correlation_id="c1", event_id=event_id)) as uow:
            if add is not None:
                uow.tenants.add(add)
            if save is not None:
                uow.tenants.save(save)
            if user is not None:
                uow.users.add(user)
            for event in events:
                uow.emit(event)
            uow.commit()


def _tables(ddb: Any) -> None:
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


def _outbox_items(client: Any) -> list[dict[str, Any]]:
    items = client.scan(TableName="saas-tenant-service")["Items"]
    return [i for i in items if i["sk"]["S"].startswith("OUTBOX#")]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        yield ddb


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "memory":
        memory = MemoryTenantRepository()
        return Store(
            repo=memory,
            uow=MemoryUnitOfWorkFactory(memory),
            outbox=lambda: [
                (m.detail["metadata"]["tenant_id"], m.detail_type) for m in memory.outbox
            ],
        )
    client = request.getfixturevalue("client")
    tables = {"tenant_table": "saas-tenants", "service_table": "saas-tenant-service"}
    return Store(
        repo=DynamoDBTenantRepository(client, **tables),
        uow=DynamoDBUnitOfWorkFactory(client, **tables),
        outbox=lambda: sorted(
            (i["pk"]["S"].removeprefix("TENANT#"), i["detail_type"]["S"])
            for i in _outbox_items(client)
        ),
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


def test_a_new_tenant_and_its_event_are_written_together(store: Store) -> None:
    store.write(add=_tenant(), events=(TenantRegistered(tenant_id="t1"),))

    assert store.repo.get("t1") == _tenant()
    assert store.outbox() == [("t1", "TenantRegistered")]


def test_a_stale_write_changes_nothing_and_publishes_nothing(store: Store) -> None:
    # Given a tenant at version 1, then activated (version 2)
    store.write(add=_tenant(), events=(TenantRegistered(tenant_id="t1"),))
    active = _tenant(status=TenantStatus.ACTIVE, version=2)
    store.write(save=active, events=(TenantActivated(tenant_id="t1"),))

    # When a writer that read version 1 saves its own change
    with pytest.raises(ConcurrentModification):
        store.write(
            save=_tenant(status=TenantStatus.SUSPENDED, version=2),
            events=(TenantSuspended(tenant_id="t1"),),
        )

    # Then neither the record nor the outbox took it
    assert store.repo.get("t1") == active
    assert sorted(store.outbox()) == [("t1", "TenantActivated"), ("t1", "TenantRegistered")]


def test_a_tenant_id_cannot_be_registered_twice(store: Store) -> None:
    store.write(add=_tenant())

    with pytest.raises(ConcurrentModification):
        store.write(add=_tenant(name="Impostor"), events=(TenantRegistered(tenant_id="t1"),))
    assert store.repo.get("t1").name == "Acme"  # type: ignore[union-attr]
    assert store.outbox() == []


def test_a_reaction_is_recorded_with_its_change_and_refused_the_second_time(
    store: Store,
) -> None:
    store.write(add=_tenant())
    admin = TenantUser("t1", "boss", "boss@acme.test", UserRole.TENANT_ADMIN, AT)

    store.write(save=_tenant(status=TenantStatus.ACTIVE, version=2), user=admin, event_id="p1")

    assert store.repo.was_processed("t1", "p1")
    assert not store.repo.was_processed("t1", "p2")
    assert store.repo.list_users("t1", limit=10, next_token=None).items == [admin]
    with pytest.raises(EventAlreadyProcessed):
        store.write(save=_tenant(status=TenantStatus.SUSPENDED, version=3), event_id="p1")
    assert store.repo.get("t1").status is TenantStatus.ACTIVE  # type: ignore[union-attr]


def test_a_reaction_that_changes_nothing_commits_its_marker_alone(store: Store) -> None:
    store.write(add=_tenant())

    store.write(event_id="p1")

    assert store.repo.was_processed("t1", "p1")
    assert store.repo.get("t1") == _tenant()
    with pytest.raises(EventAlreadyProcessed):
        store.write(event_id="p1")


def test_leaving_without_commit_writes_nothing(store: Store) -> None:
    with store.uow(_ctx("t1"), Cause(event_id="p1")) as uow:
        uow.tenants.add(_tenant())
        uow.emit(TenantRegistered(tenant_id="t1"))

    assert store.repo.get("t1") is None
    assert store.outbox() == []
    assert not store.repo.was_processed("t1", "p1")


def test_tenants_come_in_pages(store: Store) -> None:
    for n in range(5):
        store.write(add=_tenant(f"t{n}"), tenant_id=f"t{n}")

    seen: list[str] = []
    token = None
    for _ in range(5):
        page = store.repo.list(limit=2, next_token=token)
        seen += [t.id for t in page.items]
        token = page.next_token
        if token is None:
            break

    assert sorted(seen) == [f"t{n}" for n in range(5)]


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "eyJ4IjogMX0", "W10"])
def test_a_token_this_api_did_not_issue_is_refused(store: Store, token: str) -> None:
    with pytest.raises(InvalidPageToken):
        store.repo.list(limit=2, next_token=token)
    with pytest.raises(InvalidPageToken):
        store.repo.list_users("t1", limit=2, next_token=token)


def test_users_are_listed_per_tenant_in_pages(store: Store) -> None:
    for n in range(3):
        store.write(
            user=TenantUser("t1", f"u{n}", f"u{n}@a.test", UserRole.TENANT_USER, AT),
            events=(TenantUserCreated(tenant_id="t1"),),
        )
    store.write(user=TenantUser("t2", "x", "x@b.test", UserRole.TENANT_USER, AT), tenant_id="t2")

    first = store.repo.list_users("t1", limit=2, next_token=None)
    rest = store.repo.list_users("t1", limit=2, next_token=first.next_token)

    assert [u.username for u in first.items + rest.items] == ["u0", "u1", "u2"]
    assert len(store.outbox()) == 3


def test_a_user_cannot_be_recorded_twice(store: Store) -> None:
    user = TenantUser("t1", "u0", "u0@a.test", UserRole.TENANT_USER, AT)
    store.write(user=user)

    with pytest.raises(UserAlreadyExists):
        store.write(user=user, events=(TenantUserCreated(tenant_id="t1"),))
    assert store.outbox() == []


def test_a_user_is_found_by_email_within_its_tenant_only(store: Store) -> None:
    for n in range(3):
        store.write(user=TenantUser("t1", f"u{n}", f"u{n}@a.test", UserRole.TENANT_USER, AT))

    assert store.repo.user_by_email("t1", "u2@a.test").username == "u2"  # type: ignore[union-attr]
    assert store.repo.user_by_email("t2", "u2@a.test") is None
    assert store.repo.user_by_email("t1", "nobody@a.test") is None


# DynamoDB: the items as docs/conventions.md ("The outbox item and the processed marker") says.


def test_the_outbox_item_and_the_marker_follow_the_convention(client: Any) -> None:
    tables = {"tenant_table": "saas-tenants", "service_table": "saas-tenant-service"}
    factory = DynamoDBUnitOfWorkFactory(client, **tables)
    before = int(time.time())

    with factory(_ctx("t1"), Cause(correlation_id="c1", event_id="p1")) as uow:
        uow.tenants.add(_tenant())
        uow.emit(TenantRegistered(tenant_id="t1"))
        uow.commit()

    [item] = _outbox_items(client)
    envelope = json.loads(item["detail"]["S"])
    event_id = envelope["metadata"]["event_id"]
    assert (item["pk"]["S"], item["sk"]["S"]) == ("TENANT#t1", f"OUTBOX#{event_id}")
    assert item["event_id"]["S"] == event_id
    assert (item["source"]["S"], item["detail_type"]["S"]) == ("saas.tenant", "TenantRegistered")
    assert envelope["metadata"]["causation_id"] == "p1"
    assert envelope["metadata"]["correlation_id"] == "c1"
    assert envelope["data"] == {"tenant_id": "t1"}
    assert 24 * 3600 <= int(item["expires_at"]["N"]) - before <= 24 * 3600 + 5
    marker = client.get_item(
        TableName="saas-tenant-service",
        Key={"pk": {"S": "TENANT#t1"}, "sk": {"S": "EVENT#p1"}},
    )["Item"]
    assert marker["event_id"]["S"] == "p1"
    assert 15 * 86400 <= int(marker["expires_at"]["N"]) - before <= 15 * 86400 + 5


def test_the_authorizer_reads_only_the_standing(client: Any) -> None:
    factory = DynamoDBUnitOfWorkFactory(
        client, tenant_table="saas-tenants", service_table="saas-tenant-service"
    )
    with factory(_ctx("t1"), Cause()) as uow:
        uow.tenants.add(_tenant(status=TenantStatus.ACTIVE))
        uow.commit()
    directory = DynamoDBTenantDirectory(client, tenant_table="saas-tenants")

    standing = directory.standing("t1")

    assert standing is not None
    assert (standing.status, standing.tier, standing.region_group) == ("ACTIVE", "basic", "eu")
    assert directory.standing("nobody") is None


def test_a_removed_user_stays_a_tombstone_the_reads_skip_and_a_new_user_may_replace(
    store: Store,
) -> None:
    user = TenantUser("t1", "u0", "u0@a.test", UserRole.TENANT_USER, AT)
    store.write(user=user)
    store.write(user=TenantUser("t1", "u1", "u1@a.test", UserRole.TENANT_USER, AT))
    with store.uow(_ctx("t1"), Cause()) as uow:
        uow.users.remove(user)
        uow.commit()

    assert store.repo.user("t1", "u0") is None
    assert store.repo.user_by_email("t1", "u0@a.test") is None
    names = [u.username for u in store.repo.list_users("t1", limit=10, next_token=None).items]
    assert names == ["u1"]
    for change in ("save", "remove"):  # a tombstone is no user to change
        with store.uow(_ctx("t1"), Cause()) as uow:
            getattr(uow.users, change)(user)
            with pytest.raises(UserNotFound):
                uow.commit()
    store.write(user=user)  # the same username, created again over its tombstone
    assert store.repo.user("t1", "u0") == user


def test_the_authorizer_reads_a_users_standing_in_one_item(client: Any) -> None:
    tables = {"tenant_table": "saas-tenants", "service_table": "saas-tenant-service"}
    factory = DynamoDBUnitOfWorkFactory(client, **tables)
    enabled = TenantUser("t1", "u0", "u0@a.test", UserRole.TENANT_USER, AT)
    disabled = TenantUser("t1", "u1", "u1@a.test", UserRole.TENANT_USER, AT, enabled=False)
    removed = TenantUser("t1", "u2", "u2@a.test", UserRole.TENANT_USER, AT)
    before = int(time.time())
    with factory(_ctx("t1"), Cause()) as uow:
        for user in (enabled, disabled, removed):
            uow.users.add(user)
        uow.commit()
    with factory(_ctx("t1"), Cause()) as uow:
        uow.users.remove(removed)
        uow.commit()
    directory = DynamoDBUserDirectory(client, service_table="saas-tenant-service")

    states = {n: directory.user_standing("t1", n) for n in ("u0", "u1", "u2", "nobody")}

    assert {n: s.state if s else None for n, s in states.items()} == {
        "u0": "enabled",
        "u1": "disabled",
        "u2": "removed",
        "nobody": None,
    }
    assert directory.user_standing("t2", "u0") is None  # another tenant's user is not this one
    tombstone = client.get_item(
        TableName="saas-tenant-service",
        Key={"pk": {"S": "TENANT#t1"}, "sk": {"S": "USER#u2"}},
    )["Item"]
    assert set(tombstone) == {"pk", "sk", "username", "removed", "expires_at"}
    # Kept as long as the longest ID token Cognito issues (a day), then DynamoDB's TTL drops it.
    assert 86400 <= int(tombstone["expires_at"]["N"]) - before <= 86400 + 5


def test_a_user_is_changed_and_removed_with_its_events(store: Store) -> None:
    user = TenantUser("t1", "u0", "u0@a.test", UserRole.TENANT_USER, AT)
    store.write(user=user)
    uow = store.uow(_ctx("t1"), Cause())

    with uow:
        uow.users.save(user.with_enabled(False))
        uow.emit(TenantUserDisabled(tenant_id="t1", username="u0"))
        uow.commit()
    assert store.repo.user("t1", "u0") == user.with_enabled(False)
    assert store.repo.user("t2", "u0") is None
    with uow:
        uow.users.remove(user)
        uow.emit(TenantUserRemoved(tenant_id="t1", username="u0"))
        uow.commit()

    assert store.repo.user("t1", "u0") is None
    assert store.outbox() == [("t1", "TenantUserDisabled"), ("t1", "TenantUserRemoved")]


@pytest.mark.parametrize("change", ["save", "remove"])
def test_a_user_that_is_gone_is_neither_changed_nor_removed(store: Store, change: str) -> None:
    user = TenantUser("t1", "gone", "g@a.test", UserRole.TENANT_USER, AT)

    with store.uow(_ctx("t1"), Cause()) as uow:
        getattr(uow.users, change)(user)
        uow.emit(TenantUserRemoved(tenant_id="t1", username="gone"))
        with pytest.raises(UserNotFound):
            uow.commit()

    assert store.repo.user("t1", "gone") is None
    assert store.outbox() == []
