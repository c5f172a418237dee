"""Helpers for the tenant service tests: fakes, wiring, API Gateway events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tenant_context.permissions import RoutePermissions
from tenant_service.adapters.memory_api_gateway import MemoryAuthorizerCaches, MemoryUsagePlans
from tenant_service.adapters.memory_dead_letters import MemoryDeadLetters
from tenant_service.adapters.memory_event_publisher import MemoryEventPublisher
from tenant_service.adapters.memory_idempotency_store import MemoryIdempotencyStore
from tenant_service.adapters.memory_identity_provider import MemoryIdentityProvider
from tenant_service.adapters.memory_invitation_sender import MemoryInvitationSender
from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory
from tenant_service.app.access import TenantAccess
from tenant_service.container import Container, Settings

SYSTEM_ADMIN = {"role": "SystemAdmin", "user_id": "root", "tenant_id": ""}


def admin_of(tenant_id: str) -> dict[str, str]:
    return {"role": "TenantAdmin", "user_id": f"admin-{tenant_id}", "tenant_id": tenant_id}


def user_of(tenant_id: str) -> dict[str, str]:
    return {"role": "TenantUser", "user_id": f"user-{tenant_id}", "tenant_id": tenant_id}


class FakeClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)
        self.seconds = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.at += timedelta(seconds=seconds)


class SequentialIds:
    def __init__(self) -> None:
        self.n = 0
        self.keyed: dict[str, str] = {}

    def new_id(self) -> str:
        self.n += 1
        return f"t{self.n}"

    def id_for(self, key: str) -> str:
        if key not in self.keyed:
            self.keyed[key] = self.new_id()
        return self.keyed[key]


class Wiring:
    """The container with every adapter replaced by its in-memory fake."""

    def __init__(self) -> None:
        self.repository = MemoryTenantRepository()
        self.identity = MemoryIdentityProvider()
        self.invitations = MemoryInvitationSender()
        self.publisher = MemoryEventPublisher()
        self.dead_letters = MemoryDeadLetters()
        self.idempotency = MemoryIdempotencyStore()
        self.clock = FakeClock()
        self.ids = SequentialIds()
        self.usage_plans = MemoryUsagePlans()
        self.authorizer_caches = MemoryAuthorizerCaches()
        c = self.container = Container(Settings(BACKEND="memory"))
        c.repository = self.repository
        c.unit_of_work = MemoryUnitOfWorkFactory(self.repository)
        c.tenant_directory = self.repository
        c.identity = self.identity
        c.invitations = self.invitations
        c.publisher = self.publisher
        c.dead_letters = self.dead_letters
        c.idempotency_store = self.idempotency
        c.clock = self.clock
        c.ids = self.ids
        c.usage_plans = self.usage_plans
        c.authorizer_caches = self.authorizer_caches
        # Waiting for the authorizers' tenant caches moves the fake clock.
        c.access = TenantAccess(
            self.usage_plans,
            self.authorizer_caches,
            self.clock,
            key_bound=3,
            shards=2,
            tenant_cache_ttl=5,
            sleep=self.clock.advance,
        )


class LambdaContext:
    function_name = "tenant-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tenant-api"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def rest_event(
    method: str,
    path: str,
    *,
    caller: dict[str, str] | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the authorizer would let it through."""
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "api1",
            "identity": {"sourceIp": "127.0.0.1"},
            **({"authorizer": {**caller, "principalId": caller["user_id"]}} if caller else {}),
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(api: Any, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    answer = api.handler(rest_event(method, path, **kwargs), LambdaContext())
    body = json.loads(answer["body"]) if answer.get("body") else None
    return answer["statusCode"], body


# Identity tokens signed with real RS256 keys, and the JWKS that publishes them.
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT_ID = "app-client-1"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/prod"


class KeyPair:
    def __init__(self, kid: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public = self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        import jwt

        return jwt.encode(
            claims, self.private, algorithm="RS256", headers={"kid": self.kid, **headers}
        )


class FakeJwks:
    """The pool's JWKS endpoint: serves the given keys and counts how often it was asked."""

    def __init__(self, *keys: KeyPair) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [k.jwk() for k in self.keys]}


def id_claims(now: int, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "user-sub-1",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "cognito:groups": ["TenantUser"],
        "custom:tenant_id": "t-acme",
        "email": "u@acme.test",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def arn(method: str, path: str) -> str:
    return f"{METHOD_ARN}/{method}{path}"


def deployed_route_permissions() -> list[RoutePermissions]:
    """The permission files of the workspace's services, as their stacks publish them: the
    authorizer's tests decide on the real routes of every service, never on a copy."""
    root = Path(__file__).resolve().parents[3]
    files = sorted(root.glob("services/*/src/*/entrypoints/permissions.json"))
    assert files, f"no permission files under {root}/services"
    return [RoutePermissions.load(path) for path in files]
