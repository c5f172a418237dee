"""What the authorizer needs to know about a tenant (is it ACTIVE, its tier and region) and about
the token's user (is it still enabled)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TenantStanding:
    tenant_id: str
    status: str
    tier: str
    region_group: str
    usage_key: str | None = None  # what API Gateway meters the tenant's requests by


class TenantDirectory(Protocol):
    def standing(self, tenant_id: str) -> TenantStanding | None: ...


@dataclass(frozen=True, slots=True)
class UserStanding:
    """A user the tenant service records: "enabled", "disabled" (by a TenantAdmin) or
    "removed" (its record kept as a tombstone as long as any ID token of it can live)."""

    tenant_id: str
    username: str
    state: str

    @property
    def refused(self) -> bool:
        return self.state != "enabled"


class UserDirectory(Protocol):
    def user_standing(self, tenant_id: str, username: str) -> UserStanding | None:
        """None: a user this service does not record (its identity was made elsewhere)."""
        ...
