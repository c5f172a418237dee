"""How the tenant-serving function (`TenantScopedApiFunction`: `GET /tenants/{id}/usage`)
reaches one tenant's usage: with credentials scoped to that tenant.

The function's own role has no DynamoDB permission; a client from here acts as the service's
tenant-access role for one tenant, which AWS lets read that tenant's `TENANT#<id>` rows of the
usage table (Query, GetItem) and its record in the tenant directory (GetItem), nothing else
(README, "Tenant isolation"). The usage table lives in the service's own region: a tenant id is
all it takes to scope a client."""

from __future__ import annotations

from typing import Any, Protocol


class TenantScopedClients(Protocol):
    def dynamodb(self, tenant_id: str) -> Any:
        """The DynamoDB client of this service's region, acting for that tenant alone."""
        ...
