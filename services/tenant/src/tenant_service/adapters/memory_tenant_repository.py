"""In-memory TenantRepository for unit tests and `BACKEND=memory`: the store its unit of work
(memory_unit_of_work.py) writes to, with the same rules as DynamoDB."""

from __future__ import annotations

from tenant_context import OutboxMessage
from tenant_service.adapters import page_token
from tenant_service.domain.tenant import Tenant
from tenant_service.domain.users import TenantUser
from tenant_service.ports.tenant_directory import TenantStanding, UserStanding
from tenant_service.ports.tenant_repository import Page


class MemoryTenantRepository:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.users: dict[tuple[str, str], TenantUser] = {}
        self.outbox: list[OutboxMessage] = []
        self.processed: set[tuple[str, str]] = set()
        # Removed users' tombstones (DynamoDB keeps them as long as an ID token can live).
        self.removed_users: set[tuple[str, str]] = set()

    def get(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    def list(self, *, limit: int, next_token: str | None) -> Page[Tenant]:
        start = page_token.decode(next_token, fields=("tenant_id",))
        ids = sorted(self.tenants)
        if start is not None:
            ids = [i for i in ids if i > start["tenant_id"]]
        chosen = ids[:limit]
        more = len(ids) > limit
        token = page_token.encode({"tenant_id": chosen[-1]}) if more else None
        return Page(items=[self.tenants[i] for i in chosen], next_token=token)

    def was_processed(self, tenant_id: str, event_id: str) -> bool:
        return (tenant_id, event_id) in self.processed

    def user(self, tenant_id: str, username: str) -> TenantUser | None:
        return self.users.get((tenant_id, username))

    def user_by_email(self, tenant_id: str, email: str) -> TenantUser | None:
        return next(
            (u for (t, _), u in self.users.items() if t == tenant_id and u.email == email), None
        )

    def list_users(self, tenant_id: str, *, limit: int, next_token: str | None) -> Page[TenantUser]:
        start = page_token.decode(next_token, fields=("username",))
        names = sorted(u for t, u in self.users if t == tenant_id)
        if start is not None:
            names = [n for n in names if n > start["username"]]
        chosen = names[:limit]
        token = page_token.encode({"username": chosen[-1]}) if len(names) > limit else None
        return Page(items=[self.users[(tenant_id, n)] for n in chosen], next_token=token)

    def standing(self, tenant_id: str) -> TenantStanding | None:
        """Also the authorizer's TenantDirectory."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            return None
        return TenantStanding(
            tenant_id=tenant.id,
            status=tenant.status.value,
            tier=tenant.tier.value,
            region_group=tenant.region_group.value,
            usage_key=tenant.usage_key,
        )

    def user_standing(self, tenant_id: str, username: str) -> UserStanding | None:
        """Also the authorizer's UserDirectory."""
        user = self.users.get((tenant_id, username))
        if user is not None:
            state = "enabled" if user.enabled else "disabled"
        elif (tenant_id, username) in self.removed_users:
            state = "removed"
        else:
            return None
        return UserStanding(tenant_id=tenant_id, username=username, state=state)
