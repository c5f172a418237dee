"""What the authorizer needs to know about a tenant: is it ACTIVE, and its tier and region."""

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
