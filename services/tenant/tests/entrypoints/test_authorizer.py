"""The Lambda authorizer: only a valid Cognito ID token of an ACTIVE tenant's member, on a route
its role may call, gets an Allow; the policy lists every route the role may call."""

from __future__ import annotations

import base64
import json
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

from tenant_context.permissions import RoutePermissions
from tenant_service.adapters.memory_route_permissions import MemoryRoutePermissions
from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
from tenant_service.adapters.pyjwt_token_verifier import PyJwtTokenVerifier
from tenant_service.app.authorize import (
    Authorizer,
    CachedTenantDirectory,
    ReaskedTokens,
    RouteTable,
    Unauthorized,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, TenantStatus, Tier
from tenant_service.entrypoints import authorizer as entrypoint

KEY = KeyPair("key-1")
OTHER_KEY = KeyPair("key-1")  # same kid, another key: a forged signature


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tenant(tenant_id: str, status: TenantStatus) -> Tenant:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Tenant(
        id=tenant_id,
        name=tenant_id,
        tier=Tier.PREMIUM,
        region_group=RegionGroup.EU,
        status=status,
        admin_email=f"admin@{tenant_id}.test",
        created_at=at,
        updated_at=at,
        version=1,
    )


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.jwks = FakeJwks(KEY)
        self.repository = MemoryTenantRepository()
        self.repository.tenants["t-acme"] = _tenant("t-acme", TenantStatus.ACTIVE)
        self.repository.tenants["t-frozen"] = _tenant("t-frozen", TenantStatus.SUSPENDED)
        self.verifier = PyJwtTokenVerifier(
            jwks=self.jwks,
            issuer=ISSUER,
            audiences=[CLIENT_ID],
            monotonic=self.clock.monotonic,
            leeway_seconds=30,
            refetch_cooldown=300,
        )
        self.directory = CachedTenantDirectory(self.repository, self.clock, ttl_seconds=30)
        self.routes = MemoryRoutePermissions(deployed_route_permissions())
        self.route_table = RouteTable(self.routes, self.clock, ttl_seconds=60)
        self.authorizer = Authorizer(self.verifier, self.directory, self.route_table)


@pytest.fixture
def world() -> World:
    return World()


NOW = int(time.time())


def _token(**claims: Any) -> str:
    return KEY.sign(id_claims(NOW, **claims))


# Each row: a token (or its absence) and the route; each must be refused.
UNAUTHORIZED = {
    "no token": lambda: None,
    "alg none": lambda: _b64({"alg": "none", "kid": "key-1"}) + "." + _b64(id_claims(NOW)) + ".",
    "HS256 signed with the public key": lambda: (
        _b64({"alg": "HS256", "typ": "JWT", "kid": "key-1"})
        + "."
        + _b64(id_claims(NOW))
        + "."
        + _hs256_signature_with(KEY.public_pem(), id_claims(NOW))
    ),
    "bad signature": lambda: OTHER_KEY.sign(id_claims(NOW)),
    "expired": lambda: _token(iat=NOW - 7200, exp=NOW - 3600),
    "not yet valid": lambda: _token(nbf=NOW + 3600),
    "issued in the future": lambda: _token(iat=NOW + 3600),
    "wrong iss": lambda: _token(iss="https://cognito-idp.us-east-1.amazonaws.com/other-pool"),
    "wrong aud": lambda: _token(aud="someone-elses-client"),
    "access token": lambda: _token(token_use="access"),
    "missing tenant claim": lambda: _token(**{"custom:tenant_id": None}),
    "unknown group": lambda: _token(**{"cognito:groups": ["Shoppers"]}),
    "no group": lambda: _token(**{"cognito:groups": None}),
    "unknown kid": lambda: KeyPair("key-9").sign(id_claims(NOW)),
    "garbage": lambda: "not.a.jwt",
}


def _hs256_signature_with(secret: bytes, claims: dict[str, Any]) -> str:
    import hashlib
    import hmac

    signing_input = (
        _b64({"alg": "HS256", "typ": "JWT", "kid": "key-1"}) + "." + _b64(claims)
    ).encode()
    digest = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize("case", list(UNAUTHORIZED))
def test_a_bad_token_is_unauthorized(world: World, case: str) -> None:
    # Given a token that is not a valid ID token of the pool's member
    token = UNAUTHORIZED[case]()

    # When the authorizer sees it, then it refuses it as a bad token (401)
    with pytest.raises(Unauthorized):
        world.authorizer.authorize(token, arn("GET", "/products"))


def _statements(policy: dict[str, Any], effect: str) -> list[str]:
    return [
        resource
        for statement in policy["policyDocument"]["Statement"]
        if statement["Effect"] == effect
        for resource in statement["Resource"]
    ]


# Each row: who calls which route, and must get a Deny policy (403).
FORBIDDEN = {
    "suspended tenant": ({"custom:tenant_id": "t-frozen"}, "GET", "/products"),
    "unknown tenant": ({"custom:tenant_id": "t-nobody"}, "GET", "/products"),
    "TenantUser creates a product": ({}, "POST", "/products"),
    "TenantUser lists tenants": ({}, "GET", "/tenants"),
    "TenantAdmin lists tenants": ({"cognito:groups": ["TenantAdmin"]}, "GET", "/tenants"),
    "TenantAdmin suspends": (
        {"cognito:groups": ["TenantAdmin"]},
        "POST",
        "/tenants/t-acme/suspend",
    ),
    "SystemAdmin reads products": ({"cognito:groups": ["SystemAdmin"]}, "GET", "/products"),
    "SystemAdmin places an order": ({"cognito:groups": ["SystemAdmin"]}, "POST", "/orders"),
    "a route nobody declared": ({}, "GET", "/secrets"),
}


@pytest.mark.parametrize("case", list(FORBIDDEN))
def test_a_forbidden_call_gets_a_deny_for_that_route(world: World, case: str) -> None:
    claims, method, path = FORBIDDEN[case]
    requested = arn(method, path)

    policy = world.authorizer.authorize("Bearer " + _token(**claims), requested)

    denied, allowed = _statements(policy, "Deny"), _statements(policy, "Allow")
    if case in ("suspended tenant", "unknown tenant"):
        # Then a tenant that is not ACTIVE gets nothing at all
        assert (denied, allowed) == ([f"{METHOD_ARN}/*/*"], [])
    else:
        # Then the route is denied, and the rest of the role's routes stay allowed (cached policy)
        assert denied == [requested]
        assert requested not in allowed


def test_a_tenant_user_gets_every_route_of_its_role_and_its_context(world: World) -> None:
    policy = world.authorizer.authorize(_token(), arn("GET", "/products/p-1"))

    allowed = _statements(policy, "Allow")
    assert _statements(policy, "Deny") == []
    assert arn("GET", "/products") in allowed
    assert arn("GET", "/products/*") in allowed
    assert arn("POST", "/orders") in allowed
    assert arn("POST", "/orders/*/cancel") in allowed
    assert arn("POST", "/products") not in allowed
    assert arn("GET", "/tenants") not in allowed
    assert policy["principalId"] == "user-sub-1"
    assert policy["context"] == {
        "tenant_id": "t-acme",
        "role": "TenantUser",
        "user_id": "user-sub-1",
        "tier": "premium",
        "region_group": "eu",
        "reason": "TenantUser may not call this route",
    }


def test_a_system_admin_has_no_tenant_and_manages_tenants(world: World) -> None:
    token = _token(**{"cognito:groups": ["SystemAdmin"], "custom:tenant_id": None})

    policy = world.authorizer.authorize(token, arn("POST", "/tenants"))

    assert arn("POST", "/tenants") in _statements(policy, "Allow")
    assert arn("GET", "/products") not in _statements(policy, "Allow")
    assert policy["context"]["tenant_id"] == ""
    assert policy["context"]["role"] == "SystemAdmin"


def test_the_highest_role_wins_when_a_user_is_in_several_groups(world: World) -> None:
    token = _token(**{"cognito:groups": ["TenantUser", "TenantAdmin"]})

    policy = world.authorizer.authorize(token, arn("POST", "/products"))

    assert policy["context"]["role"] == "TenantAdmin"
    assert arn("POST", "/products") in _statements(policy, "Allow")


def test_a_token_within_the_leeway_of_its_expiry_is_accepted(world: World) -> None:
    token = _token(exp=int(time.time()) - 10)

    policy = world.authorizer.authorize(token, arn("GET", "/products"))

    assert arn("GET", "/products") in _statements(policy, "Allow")


def test_the_key_set_is_fetched_once_and_cached(world: World) -> None:
    for _ in range(3):
        world.authorizer.authorize(_token(), arn("GET", "/products"))

    assert world.jwks.fetches == 1


def test_an_unknown_kid_refetches_at_most_once_per_cooldown(world: World) -> None:
    # Given the key set was fetched
    world.authorizer.authorize(_token(), arn("GET", "/products"))
    stranger = KeyPair("key-9")

    # When tokens with an unknown kid keep coming inside the cooldown
    for _ in range(5):
        with pytest.raises(Unauthorized):
            world.authorizer.authorize(stranger.sign(id_claims(NOW)), arn("GET", "/products"))

    # Then the key set was not fetched again
    assert world.jwks.fetches == 1

    # And after the cooldown, a rotated key is picked up with one more fetch
    world.jwks.keys.append(stranger)
    world.clock.advance(301)
    policy = world.authorizer.authorize(stranger.sign(id_claims(NOW)), arn("GET", "/products"))
    assert world.jwks.fetches == 2
    assert _statements(policy, "Allow")


def test_a_suspension_takes_effect_once_the_cached_standing_expires(world: World) -> None:
    # Given an active tenant's standing was cached
    world.authorizer.authorize(_token(), arn("GET", "/products"))
    suspended = _tenant("t-acme", TenantStatus.SUSPENDED)
    world.repository.tenants["t-acme"] = suspended

    # When the tenant is suspended, then within the TTL the cached answer stands
    world.clock.advance(29)
    assert _statements(world.authorizer.authorize(_token(), arn("GET", "/products")), "Allow")

    # And after it, the tenant is denied
    world.clock.advance(2)
    policy = world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert _statements(policy, "Allow") == []
    assert _statements(policy, "Deny") == [f"{METHOD_ARN}/*/*"]


class _Context:
    function_name = "tenant-authorizer"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tenant-authorizer"
    aws_request_id = "req-1"


def test_the_handler_answers_401_by_raising_unauthorized(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entrypoint, "AUTHORIZER", world.authorizer)
    event = {"type": "TOKEN", "authorizationToken": "", "methodArn": arn("GET", "/products")}

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        entrypoint.handler(event, _Context())


@pytest.mark.parametrize(
    "event",
    [
        {"type": "TOKEN", "authorizationToken": "Bearer {token}", "methodArn": "{arn}"},
        {"type": "REQUEST", "headers": {"authorization": "{token}"}, "methodArn": "{arn}"},
    ],
)
def test_the_handler_reads_token_and_request_events(
    world: World, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]
) -> None:
    monkeypatch.setattr(entrypoint, "AUTHORIZER", world.authorizer)
    filled = json.loads(
        json.dumps(event).replace("{token}", _token()).replace("{arn}", arn("GET", "/products"))
    )

    answer = entrypoint.handler(filled, _Context())

    assert answer["context"]["tenant_id"] == "t-acme"
    assert arn("GET", "/products") in _statements(answer, "Allow")


def test_the_authorizer_imports_nothing_it_does_not_use() -> None:
    # Its import is on the cold path of every API: no DI container, no HTTP router, no
    # idempotency, no boto3 (botocore alone builds its one client).
    import subprocess
    import sys

    heavy = (
        "dependency_injector",
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.idempotency",
        "aws_xray_sdk",
        "boto3",
    )
    probe = (
        "import sys, tenant_service.entrypoints.authorizer\n"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_REGION": "us-east-1", "PATH": ""},
    ).stdout.strip()

    assert loaded == "[]"


def test_a_tenant_that_just_became_active_is_let_in_within_seconds(world: World) -> None:
    # Given a tenant still provisioning, whose member was refused (and the answer cached)
    world.repository.tenants["t-new"] = _tenant("t-new", TenantStatus.PROVISIONING)
    token = _token(**{"custom:tenant_id": "t-new"})
    assert _statements(world.authorizer.authorize(token, arn("GET", "/products")), "Allow") == []

    # When it becomes ACTIVE, then a few seconds later (well inside the 30 s TTL) it is let in
    world.repository.tenants["t-new"] = _tenant("t-new", TenantStatus.ACTIVE)
    world.clock.advance(6)
    policy = world.authorizer.authorize(token, arn("GET", "/products"))
    assert arn("GET", "/products") in _statements(policy, "Allow")


def test_a_failed_key_fetch_is_retried_after_seconds_not_a_whole_cooldown(world: World) -> None:
    # Given the pool's JWKS endpoint fails once at cold start
    real_fetch, calls = world.jwks.fetch, []

    def flaky() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("connection reset")
        return real_fetch()

    world.jwks.fetch = flaky  # type: ignore[method-assign]
    with pytest.raises(Unauthorized):
        world.authorizer.authorize(_token(), arn("GET", "/products"))

    # When tokens come right after, the endpoint is not hammered
    with pytest.raises(Unauthorized):
        world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert len(calls) == 1

    # Then a few seconds later the keys are fetched again and tokens pass
    world.clock.advance(6)
    policy = world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert len(calls) == 2
    assert arn("GET", "/products") in _statements(policy, "Allow")


REPORTS = RoutePermissions.from_document(
    {
        "service": "report",
        "routes": [{"method": "GET", "path": "/reports/{id}", "roles": ["TenantAdmin"]}],
    }
)


def test_a_service_deployed_alone_is_let_in_within_the_route_ttl(world: World) -> None:
    # Given the route table was read while the report service was not deployed
    token = _token(**{"cognito:groups": ["TenantAdmin"]})
    before = world.authorizer.authorize(token, arn("GET", "/reports/r-1"))
    assert _statements(before, "Deny") == [arn("GET", "/reports/r-1")]

    # When the report service publishes its permissions, then within the TTL nothing changes
    world.routes.tables.append(REPORTS)
    world.clock.advance(59)
    assert _statements(world.authorizer.authorize(token, arn("GET", "/reports/r-1")), "Deny")

    # And after it, its route is allowed (and listed) without any change to the tenant service
    world.clock.advance(2)
    policy = world.authorizer.authorize(token, arn("GET", "/reports/r-1"))
    assert _statements(policy, "Deny") == []
    assert arn("GET", "/reports/*") in _statements(policy, "Allow")
    assert world.routes.loads == 2


def test_a_failed_reread_keeps_the_last_routes_and_retries_after_seconds(world: World) -> None:
    # Given the routes were read once
    world.authorizer.authorize(_token(), arn("GET", "/products"))
    load, calls = world.routes.load, []

    def broken() -> list[RoutePermissions]:
        calls.append(1)
        raise OSError("parameter store unreachable")

    world.routes.load = broken  # type: ignore[method-assign]
    world.clock.advance(61)

    # When the re-read fails, then the last table still decides
    policy = world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert arn("GET", "/products") in _statements(policy, "Allow")
    world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert len(calls) == 1

    # And a few seconds later it is read again
    world.routes.load = load  # type: ignore[method-assign]
    world.clock.advance(6)
    world.authorizer.authorize(_token(), arn("GET", "/products"))
    assert world.routes.loads == 2


def test_routes_that_cannot_be_read_at_cold_start_refuse_nobody_silently(world: World) -> None:
    def broken() -> list[RoutePermissions]:
        raise OSError("parameter store unreachable")

    world.routes.load = broken  # type: ignore[method-assign]

    # The error surfaces (API Gateway answers 500): no policy is made up without the routes
    with pytest.raises(OSError, match="unreachable"):
        world.authorizer.authorize(_token(), arn("GET", "/products"))


def test_the_answer_carries_the_tenants_usage_key_for_api_gateways_usage_plans(
    world: World,
) -> None:
    world.repository.tenants["t-acme"] = _tenant("t-acme", TenantStatus.ACTIVE).with_usage_key(
        "saas-tenant-t-acme"
    )

    policy = world.authorizer.authorize(_token(), arn("GET", "/products"))

    assert policy["usageIdentifierKey"] == "saas-tenant-t-acme"


def test_a_caller_without_a_tenant_or_a_tenant_without_a_key_gets_no_usage_key(
    world: World,
) -> None:
    admin = _token(**{"cognito:groups": ["SystemAdmin"], "custom:tenant_id": None})

    assert "usageIdentifierKey" not in world.authorizer.authorize(admin, arn("GET", "/tenants"))
    assert "usageIdentifierKey" not in world.authorizer.authorize(_token(), arn("GET", "/orders"))


def test_a_token_asked_about_again_on_a_stage_within_reauthorize_every_rereads_its_tenant(
    world: World,
) -> None:
    # Given an authorizer that knows API Gateway's ReauthorizeEvery (300 s)
    authorizer = Authorizer(
        world.verifier, world.directory, world.route_table, ReaskedTokens(world.clock, 300)
    )
    token = _token()
    assert _statements(authorizer.authorize(token, arn("GET", "/products")), "Allow")
    world.repository.tenants["t-acme"] = _tenant("t-acme", TenantStatus.SUSPENDED)

    # When API Gateway asks again about the same token on the same stage (its cache was flushed)
    world.clock.advance(1)
    policy = authorizer.authorize(token, arn("GET", "/products"))

    # Then the tenant's standing was read again, not taken from the 30 s cache
    assert _statements(policy, "Allow") == []
    assert _statements(policy, "Deny") == [f"{METHOD_ARN}/*/*"]


def test_a_token_first_seen_on_a_stage_uses_the_cached_standing(world: World) -> None:
    authorizer = Authorizer(
        world.verifier, world.directory, world.route_table, ReaskedTokens(world.clock, 300)
    )
    assert _statements(authorizer.authorize(_token(), arn("GET", "/products")), "Allow")
    world.repository.tenants["t-acme"] = _tenant("t-acme", TenantStatus.SUSPENDED)
    other_token = _token(sub="user-sub-2")

    policy = authorizer.authorize(other_token, arn("GET", "/products"))

    assert _statements(policy, "Allow")  # within the TTL: the cached standing


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"custom:tenant_id": "t-frozen"}, "tenant t-frozen is SUSPENDED"),
        ({"custom:tenant_id": "t-nobody"}, "tenant t-nobody is not found"),
        ({}, "TenantUser may not call this route"),
    ],
)
def test_a_deny_says_why_for_the_apis_403(
    world: World, claims: dict[str, Any], reason: str
) -> None:
    policy = world.authorizer.authorize(_token(**claims), arn("POST", "/products"))

    assert policy["context"]["reason"] == reason
