"""The authorizer and a tenant's users: a token of a user its TenantAdmin disabled or removed is
denied every route, saying why; the user's standing is cached like the tenant's (a short TTL,
read again when API Gateway re-asks after a flush) and costs one read per cache miss."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from tenant_testkit import (
    CLIENT_ID,
    ISSUER,
    METHOD_ARN,
    FakeClock,
    FakeJwks,
    KeyPair,
    arn,
    deployed_route_permissions,
    id_claims,
)

from tenant_service.adapters.memory_route_permissions import MemoryRoutePermissions
from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
from tenant_service.adapters.pyjwt_token_verifier import PyJwtTokenVerifier
from tenant_service.app.authorize import (
    Authorizer,
    CachedTenantDirectory,
    CachedUserDirectory,
    ReaskedTokens,
    RouteTable,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.ports.tenant_directory import UserStanding

KEY = KeyPair("key-1")
NOW = int(time.time())
AT = datetime(2026, 1, 1, tzinfo=UTC)
TTL = 5.0


class CountingUsers:
    """The memory store as the UserDirectory, counting its reads."""

    def __init__(self, store: MemoryTenantRepository) -> None:
        self.store = store
        self.reads: list[tuple[str, str]] = []

    def user_standing(self, tenant_id: str, username: str) -> UserStanding | None:
        self.reads.append((tenant_id, username))
        return self.store.user_standing(tenant_id, username)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = MemoryTenantRepository()
        for tenant_id, status in (("t-acme", TenantStatus.ACTIVE), ("t-frozen", "SUSPENDED")):
            self.store.tenants[tenant_id] = Tenant(
                id=tenant_id,
                name=tenant_id,
                tier=Tier.BASIC,
                region_group=RegionGroup.US,
                status=TenantStatus(status),
                admin_email=f"admin@{tenant_id}.test",
                created_at=AT,
                updated_at=AT,
                version=1,
            )
        self.set_user("alice", enabled=True)
        self.users = CountingUsers(self.store)
        verifier = PyJwtTokenVerifier(
            jwks=FakeJwks(KEY),
            issuer=ISSUER,
            audiences=[CLIENT_ID],
            monotonic=self.clock.monotonic,
            leeway_seconds=30,
            refetch_cooldown=300,
        )
        self.authorizer = Authorizer(
            verifier,
            CachedTenantDirectory(self.store, self.clock, TTL),
            RouteTable(MemoryRoutePermissions(deployed_route_permissions()), self.clock, 60),
            ReaskedTokens(self.clock, 300),
            CachedUserDirectory(self.users, self.clock, TTL),
        )

    def set_user(self, username: str, *, enabled: bool, tenant_id: str = "t-acme") -> None:
        user = TenantUser(tenant_id, username, f"{username}@acme.test", UserRole.TENANT_USER, AT)
        self.store.users[(tenant_id, username)] = user.with_enabled(enabled)

    def remove_user(self, username: str, tenant_id: str = "t-acme") -> None:
        del self.store.users[(tenant_id, username)]
        self.store.removed_users.add((tenant_id, username))

    def ask(self, token: str, path: str = "/products", stage: str = "") -> dict[str, Any]:
        method_arn = arn("GET", path)
        if stage:
            method_arn = method_arn.replace("/prod/", f"/{stage}/", 1)
        return self.authorizer.authorize(token, method_arn)


@pytest.fixture
def world() -> World:
    return World()


def _token(username: str = "alice", **claims: Any) -> str:
    return KEY.sign(id_claims(NOW, **{"cognito:username": username, **claims}))


def _denied_everything(policy: dict[str, Any], stage: str = "prod") -> bool:
    statements = policy["policyDocument"]["Statement"]
    everything = METHOD_ARN.replace("/prod", f"/{stage}") + "/*/*"
    return [(s["Effect"], s["Resource"]) for s in statements] == [("Deny", [everything])]


def _allowed(policy: dict[str, Any]) -> bool:
    return any(s["Effect"] == "Allow" for s in policy["policyDocument"]["Statement"])


def test_an_enabled_user_is_let_in_with_one_read(world: World) -> None:
    policy = world.ask(_token())

    assert _allowed(policy)
    assert policy["context"]["tenant_id"] == "t-acme"
    assert world.users.reads == [("t-acme", "alice")]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda w: w.set_user("alice", enabled=False), "user alice is disabled"),
        (lambda w: w.remove_user("alice"), "user alice is removed"),
    ],
)
def test_a_disabled_or_removed_user_is_denied_every_route_saying_why(
    world: World, change: Any, reason: str
) -> None:
    change(world)

    policy = world.ask(_token())

    assert _denied_everything(policy)
    assert policy["context"]["reason"] == reason
    assert policy["context"]["tenant_id"] == ""  # no tenant context for a refused caller
    assert "usageIdentifierKey" not in policy


def test_a_user_this_service_does_not_record_is_let_in_as_before(world: World) -> None:
    # Identities made outside the tenant service (the platform's own, a test's) have no record:
    # the tenant's standing alone decides, as it did before users were checked.
    assert _allowed(world.ask(_token("made-elsewhere")))


def test_the_same_username_in_another_tenant_is_another_user(world: World) -> None:
    world.set_user("alice", enabled=False, tenant_id="t-other")

    assert _allowed(world.ask(_token()))
    assert world.users.reads == [("t-acme", "alice")]


def test_the_subject_names_the_user_when_the_token_has_no_cognito_username(
    world: World,
) -> None:
    world.set_user("user-sub-1", enabled=False)
    token = KEY.sign(id_claims(NOW))  # sub "user-sub-1", no cognito:username

    assert world.ask(token)["context"]["reason"] == "user user-sub-1 is disabled"


def test_a_disabled_user_is_refused_once_the_cached_standing_expires(world: World) -> None:
    # Given an enabled user's standing was cached
    token = _token()
    assert _allowed(world.ask(token))
    world.set_user("alice", enabled=False)

    # Then another stage (no re-ask) within the TTL answers from the cache, without a read
    world.clock.advance(TTL - 1)
    assert _allowed(world.ask(token, stage="other"))
    assert len(world.users.reads) == 1

    # And after the TTL the user is read again and refused
    world.clock.advance(2)
    assert _denied_everything(world.ask(_token(), stage="third"), stage="third")
    assert len(world.users.reads) == 2


def test_a_reask_after_a_flush_reads_the_user_again(world: World) -> None:
    # Given a token answered on a stage, its user cached
    token = _token()
    assert _allowed(world.ask(token))
    world.set_user("alice", enabled=False)

    # When API Gateway asks again on that stage (its cache was flushed on TenantUserDisabled)
    world.clock.advance(1)
    policy = world.ask(token)

    # Then the user was read afresh, not taken from the cache
    assert policy["context"]["reason"] == "user alice is disabled"
    assert world.users.reads == [("t-acme", "alice")] * 2


def test_an_enabled_again_user_is_let_in_within_the_refused_ttl(world: World) -> None:
    world.set_user("alice", enabled=False)
    assert _denied_everything(world.ask(_token()))
    world.set_user("alice", enabled=True)

    world.clock.advance(TTL + 0.1)

    assert _allowed(world.ask(_token(), stage="other"))


def test_a_refused_tenant_costs_no_user_read(world: World) -> None:
    policy = world.ask(_token(**{"custom:tenant_id": "t-frozen"}))

    assert policy["context"]["reason"] == "tenant t-frozen is SUSPENDED"
    assert world.users.reads == []


def test_a_system_admin_is_not_looked_up_among_tenant_users(world: World) -> None:
    token = _token("root", **{"cognito:groups": ["SystemAdmin"], "custom:tenant_id": None})

    assert _allowed(world.ask(token, path="/tenants"))
    assert world.users.reads == []


def test_the_user_cache_is_bounded(world: World) -> None:
    cache = CachedUserDirectory(world.users, world.clock, TTL, capacity=10)
    for n in range(25):
        cache.user_standing("t-acme", f"u{n}")
    world.users.reads.clear()

    cache.user_standing("t-acme", "u24")  # the newest is still cached
    cache.user_standing("t-acme", "u0")  # the oldest was dropped

    assert world.users.reads == [("t-acme", "u0")]
