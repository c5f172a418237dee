"""The authorizer's decision: who the token says the caller is, and which routes it may call.
Returns the IAM policy API Gateway caches per token (with the tenant's `usageIdentifierKey`: the
API key of its usage plans, which API Gateway meters and throttles the request by), so it lists
every method ARN the role may call on any deployed service (a cached answer stays right on every
route), plus a Deny of the requested ARN when that route is not allowed. The routes are the
permission tables the deployed services publish, re-read after a TTL so a service deployed alone
is picked up. A token of a tenant that is not ACTIVE, or of a user its TenantAdmin disabled or
removed, is denied every route with the reason; both standings are cached for a short TTL and
read again when API Gateway re-asks (ReaskedTokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenant_context.context import Role
from tenant_context.permissions import RoutePermission, RoutePermissions
from tenant_service.domain.status import TenantStatus
from tenant_service.ports.clock import Clock
from tenant_service.ports.route_permissions import RoutePermissionsSource
from tenant_service.ports.tenant_directory import (
    TenantDirectory,
    TenantStanding,
    UserDirectory,
    UserStanding,
)
from tenant_service.ports.token_verifier import InvalidToken, TokenVerifier

# Most privileged first: a user in several groups acts with the highest role.
_ROLE_BY_GROUP = (Role.SYSTEM_ADMIN.value, Role.TENANT_ADMIN.value, Role.TENANT_USER.value)
TENANT_CLAIM = "custom:tenant_id"
USERNAME_CLAIM = "cognito:username"


class Unauthorized(Exception):
    """A bad token: API Gateway answers 401 when the authorizer raises "Unauthorized"."""


@dataclass(frozen=True, slots=True)
class MethodArn:
    prefix: str  # arn:aws:execute-api:<region>:<account>:<api id>/<stage>
    method: str
    path: str  # "/tenants/t-1"

    @classmethod
    def parse(cls, arn: str) -> MethodArn:
        head, sep, resource = arn.partition("/")
        parts = resource.split("/", 2)
        if not sep or len(parts) < 2 or not head.startswith("arn:"):
            raise ValueError(f"not an execute-api method ARN: {arn!r}")
        stage, method = parts[0], parts[1]
        path = "/" + (parts[2] if len(parts) > 2 else "")
        return cls(prefix=f"{head}/{stage}", method=method.upper(), path=path)

    def of(self, permission: RoutePermission) -> str:
        path = "/".join(
            "*" if part.startswith("{") else part for part in permission.path.strip("/").split("/")
        )
        return f"{self.prefix}/{permission.method}/{path}"


class CachedTenantDirectory:
    """Tenant standing cached for `ttl_seconds`. A change of standing reaches every token within
    that time plus the lifecycle's flush of API Gateway's caches (app/access.py).

    A tenant that is not ACTIVE (or not found) is re-read sooner (`inactive_ttl_seconds`), so a
    tenant that just became ACTIVE is not refused for a whole TTL; that only adds reads, it never
    lets anyone in who should not be.
    """

    def __init__(
        self,
        source: TenantDirectory,
        clock: Clock,
        ttl_seconds: float,
        inactive_ttl_seconds: float = 5.0,
    ) -> None:
        self._source = source
        self._clock = clock
        self._ttl = ttl_seconds
        self._inactive_ttl = min(ttl_seconds, inactive_ttl_seconds)
        self._entries: dict[str, tuple[float, TenantStanding | None]] = {}

    def standing(self, tenant_id: str, *, fresh: bool = False) -> TenantStanding | None:
        """The cached standing, or the source's when it is stale or `fresh` is asked."""
        now = self._clock.monotonic()
        cached = None if fresh else self._entries.get(tenant_id)
        if cached is not None:
            at, value = cached
            active = value is not None and value.status == TenantStatus.ACTIVE.value
            if now - at < (self._ttl if active else self._inactive_ttl):
                return value
        value = self._source.standing(tenant_id)
        self._entries[tenant_id] = (now, value)
        return value


class CachedUserDirectory:
    """User standing cached like the tenant's: `ttl_seconds` for an enabled (or unrecorded)
    user, `refused_ttl_seconds` for a disabled or removed one (so an enabled user is let in
    again soon). A user's change reaches every token within the TTL plus the flush of API
    Gateway's caches the consumer makes on TenantUserDisabled / Enabled / Removed."""

    def __init__(
        self,
        source: UserDirectory,
        clock: Clock,
        ttl_seconds: float,
        refused_ttl_seconds: float = 5.0,
        capacity: int = 10_000,
    ) -> None:
        self._source = source
        self._clock = clock
        self._ttl = ttl_seconds
        self._refused_ttl = min(ttl_seconds, refused_ttl_seconds)
        self._capacity = capacity
        self._entries: dict[tuple[str, str], tuple[float, UserStanding | None]] = {}

    def user_standing(
        self, tenant_id: str, username: str, *, fresh: bool = False
    ) -> UserStanding | None:
        """The cached standing, or the source's when it is stale or `fresh` is asked."""
        now = self._clock.monotonic()
        key = (tenant_id, username)
        cached = None if fresh else self._entries.get(key)
        if cached is not None:
            at, value = cached
            refused = value is not None and value.refused
            if now - at < (self._refused_ttl if refused else self._ttl):
                return value
        value = self._source.user_standing(tenant_id, username)
        self._entries.pop(key, None)
        if len(self._entries) >= self._capacity:  # oldest first: insertion order
            for old in list(self._entries)[: self._capacity // 10 or 1]:
                del self._entries[old]
        self._entries[key] = (now, value)
        return value


class ReaskedTokens:
    """API Gateway asks the authorizer again about a token it answered on the same API stage
    within `window_seconds` (its ReauthorizeEvery) only when that stage's cache was flushed
    (or evicted early): the lifecycle flushes on a change of standing, so such a re-ask is the
    event that the tenant's cached standing may be stale, and it is read again. Other
    containers' entries expire by their TTL (the lifecycle flushes again after it)."""

    def __init__(self, clock: Clock, window_seconds: float, capacity: int = 10_000) -> None:
        self._clock = clock
        self._window = window_seconds
        self._capacity = capacity
        self._answered: dict[tuple[str, str], float] = {}

    def reasked(self, token: str, stage: str) -> bool:
        """Whether this token was answered on this stage within the window; records it."""
        if self._window <= 0:
            return False
        now = self._clock.monotonic()
        key = (token, stage)
        at = self._answered.pop(key, None)
        if len(self._answered) >= self._capacity:  # oldest first: insertion order
            for old in list(self._answered)[: self._capacity // 10 or 1]:
                del self._answered[old]
        self._answered[key] = now
        return at is not None and now - at < self._window


class RouteTable:
    """The deployed services' permission tables, merged; read on first use and again after
    `ttl_seconds`. A failed re-read keeps the last table and is retried after
    `retry_seconds` (a blip of the parameter store must not lock everyone out); a failed first
    read raises."""

    def __init__(
        self,
        source: RoutePermissionsSource,
        clock: Clock,
        ttl_seconds: float,
        retry_seconds: float = 5.0,
    ) -> None:
        self._source = source
        self._clock = clock
        self._ttl = ttl_seconds
        self._retry = min(ttl_seconds, retry_seconds)
        self._table: RoutePermissions | None = None
        self._next_read = 0.0

    def current(self) -> RoutePermissions:
        now = self._clock.monotonic()
        if self._table is not None and now < self._next_read:
            return self._table
        try:
            tables = self._source.load()
        except Exception:
            if self._table is None:
                raise
            self._next_read = now + self._retry
            return self._table
        self._table = RoutePermissions.merge(tables)
        self._next_read = now + self._ttl
        return self._table


def _role(claims: Mapping[str, Any]) -> str:
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    for role in _ROLE_BY_GROUP:
        if role in groups:
            return role
    raise Unauthorized(f"no known role in cognito:groups {groups!r}")


def _policy(principal_id: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
    }


def _statement(effect: str, resources: list[str]) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}


class Authorizer:
    def __init__(
        self,
        verifier: TokenVerifier,
        tenants: TenantDirectory,
        routes: RouteTable,
        reasked: ReaskedTokens | None = None,
        users: UserDirectory | None = None,
    ) -> None:
        self._verifier = verifier
        self._tenants = tenants
        self._routes = routes
        self._reasked = reasked
        # None: users are not checked (a tenant's standing alone decides).
        self._users = users

    def authorize(self, token: str | None, method_arn: str) -> dict[str, Any]:
        if not token:
            raise Unauthorized("no token")
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        try:
            claims = self._verifier.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        role = _role(claims)
        user_id = claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise Unauthorized("token has no subject")
        try:
            arn = MethodArn.parse(method_arn)
        except ValueError as exc:
            raise Unauthorized(str(exc)) from None
        everything = f"{arn.prefix}/*/*"

        usage_key: str | None = None
        context = {
            "tenant_id": "",
            "role": role,
            "user_id": user_id,
            "tier": "",
            "region_group": "",
            # The 403 message of a route the role may not call: the answer is cached and
            # evaluated for every route, so it names none.
            "reason": f"{role} may not call this route",
        }
        # A SystemAdmin has no tenant, and no record here (the platform makes it in the user
        # pool): Cognito's disabling and its token lifetime are what bound it.
        if role != Role.SYSTEM_ADMIN.value:
            tenant_id = claims.get(TENANT_CLAIM)
            if not isinstance(tenant_id, str) or not tenant_id.strip():
                raise Unauthorized(f"token has no {TENANT_CLAIM}")
            fresh = self._reasked is not None and self._reasked.reasked(token, arn.prefix)
            if fresh and isinstance(self._tenants, CachedTenantDirectory):
                standing = self._tenants.standing(tenant_id, fresh=True)
            else:
                standing = self._tenants.standing(tenant_id)
            if standing is None or standing.status != TenantStatus.ACTIVE.value:
                # What the APIs' ACCESS_DENIED gateway response says ($context.authorizer.reason).
                status = "not found" if standing is None else standing.status
                context["reason"] = f"tenant {tenant_id} is {status}"
                return _policy(user_id, [_statement("Deny", [everything])]) | {"context": context}
            username = claims.get(USERNAME_CLAIM) or user_id
            user = self._user(tenant_id, str(username), fresh=fresh)
            if user is not None and user.refused:
                context["reason"] = f"user {username} is {user.state}"
                return _policy(user_id, [_statement("Deny", [everything])]) | {"context": context}
            context.update(
                tenant_id=tenant_id, tier=standing.tier, region_group=standing.region_group
            )
            usage_key = standing.usage_key

        routes = self._routes.current()
        allowed = [arn.of(p) for p in routes.routes_for(role)]
        statements = [_statement("Allow", allowed)] if allowed else []
        if not routes.allows(role, arn.method, arn.path):
            statements.append(_statement("Deny", [method_arn]))
        answer = _policy(user_id, statements) | {"context": context}
        if usage_key:
            answer["usageIdentifierKey"] = usage_key
        return answer

    def _user(self, tenant_id: str, username: str, *, fresh: bool) -> UserStanding | None:
        """The user's standing (None: unchecked, or a user this service does not record). Read
        only for an ACTIVE tenant: a refused tenant costs no user read."""
        if self._users is None:
            return None
        if isinstance(self._users, CachedUserDirectory):
            return self._users.user_standing(tenant_id, username, fresh=fresh)
        return self._users.user_standing(tenant_id, username)
